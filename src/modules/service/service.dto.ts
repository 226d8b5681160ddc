import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Liveness' })
export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';
}

@ApiSchema({ name: 'ReadinessCheck' })
export class ReadinessCheckDto {
  @ApiProperty({ example: true })
  ok: boolean;
  @ApiProperty({ description: 'how long the check took, in ms', example: 3 })
  ms: number;
  @ApiPropertyOptional({ description: 'why it failed', example: 'no answer within 2000 ms' })
  error?: string;
}

@ApiSchema({ name: 'Readiness' })
export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'unready'], example: 'ready' })
  status: 'ready' | 'unready';
  @ApiProperty({
    description:
      'one check per dependency: database, ceph, iscsi, and hil when BMI uses a HIL; only `stopping` once the ' +
      'process stops',
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ReadinessCheck' },
  })
  checks: Record<string, ReadinessCheckDto>;
}

@ApiSchema({ name: 'Version' })
export class VersionDto {
  @ApiProperty({ description: 'BMI’s version', example: '0.1.0' })
  version: string;
  @ApiProperty({ description: 'the git commit it was built from, when known', nullable: true, type: String })
  commit: string | null;
  @ApiProperty({ description: 'the Node.js it runs on', example: 'v22.20.0' })
  node: string;
  @ApiProperty({ description: 'when this process started (ISO 8601)', example: '2026-11-29T08:00:00.000Z' })
  started: string;
}
