import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { OptionalNameField } from '../../../common/http/fields';
import { PageOf, PageQueryDto } from '../../../common/http/resources';

@ApiSchema({ name: 'AuditRecord' })
export class AuditRecordDto {
  @ApiProperty({ example: 412 }) id: number;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'the caller’s user name, as sent (a refused caller’s too)', example: 'alice' })
  actor: string;
  @ApiProperty({ nullable: true, type: String, example: 'proj1' }) project: string | null;
  @ApiProperty({ description: 'the operation asked for', example: 'createDisk' }) action: string;
  @ApiProperty({ example: 'POST /v1/projects/:project/disks' }) route: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'the names it acted on',
    example: { name: 'web1', image: 'centos7' },
  })
  resource: Record<string, string>;
  @ApiProperty({ example: 201 }) status: number;
  @ApiProperty({ description: '`ok`, or the error code answered', example: 'ok' }) result: string;
  @ApiProperty({ nullable: true, type: String, description: 'the journaled operation it ran' })
  operation: string | null;
  @ApiProperty({ description: 'the request’s X-Request-Id' }) request_id: string;
  @ApiProperty({ nullable: true, type: String, description: 'the client’s address' }) client: string | null;
}

export const AuditPageDto = PageOf(AuditRecordDto, 'AuditPage');

export class ListAuditQueryDto extends PageQueryDto {
  @OptionalNameField('only what was asked from this project')
  project?: string;

  @ApiPropertyOptional({ description: 'only what this user asked', example: 'alice' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  actor?: string;

  @ApiPropertyOptional({ description: 'only this operation', example: 'deleteDisk' })
  @IsOptional()
  @Matches(/^[A-Za-z]{1,64}$/, { message: 'action must be an operation name such as deleteDisk' })
  action?: string;
}
