import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ProjectScopedDto, WholeNumberField } from '../../../common/http/fields';
import { PageOf, PageQueryDto } from '../../../common/http/resources';

export const OPERATION_STATES = ['running', 'done', 'rolled_back', 'failed', 'interrupted', 'rolled_forward'] as const;

export class ListOperationsDto extends ProjectScopedDto {
  @ApiPropertyOptional({ enum: OPERATION_STATES, description: 'only operations in this state' })
  @IsOptional()
  @IsIn(OPERATION_STATES)
  state?: (typeof OPERATION_STATES)[number];

  @WholeNumberField('at most this many, newest first (default 100)', 1, 1000)
  limit?: number;
}

@ApiSchema({ name: 'Action' })
class ActionDto {
  @ApiProperty({ example: 'rbd.remove' }) type: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) args: Record<string, unknown>;
}

@ApiSchema({ name: 'JournalStep' })
class JournalStepDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['started', 'done', 'failed', 'undone', 'undo_failed', 'redone'] }) state: string;
  @ApiProperty({ description: 'ms since the epoch when it started' }) at: number;
  @ApiPropertyOptional({ description: 'how long its run took (ms)' }) ms?: number;
  @ApiPropertyOptional({ type: ActionDto, description: 'what undoes it (recovery rolls back with it)' })
  undo?: ActionDto;
  @ApiPropertyOptional({ type: ActionDto, description: 'what completes it, for a step that cannot be undone' })
  redo?: ActionDto;
}

@ApiSchema({ name: 'Progress' })
class ProgressDto {
  @ApiProperty({ example: 'flatten 5img14' }) step: string;
  @ApiProperty({ example: 512, description: 'units done: RBD objects (a flatten), bytes (an upload)' }) done: number;
  @ApiProperty({ example: 2560 }) total: number;
  @ApiProperty({ type: Number, nullable: true, example: 40, description: 'units a second over the step so far' })
  rate: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 52, description: 'seconds the step should still take' })
  eta_seconds: number | null;
}

@ApiSchema({ name: 'Operation' })
export class OperationRowDto {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'create_disk' }) kind: string;
  @ApiProperty({ nullable: true, type: String }) project: string | null;
  @ApiProperty({ nullable: true, type: String }) actor: string | null;
  @ApiProperty({ enum: OPERATION_STATES }) state: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the names the operation acted on' })
  args: Record<string, unknown>;
  @ApiProperty({ type: [JournalStepDto] }) steps: JournalStepDto[];
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({
    type: ProgressDto,
    nullable: true,
    description: 'how far the step that reports progress (a flatten) got; null before any',
  })
  progress: ProgressDto | null;
  @ApiProperty({ format: 'date-time' }) started: string;
  @ApiProperty({ format: 'date-time' }) updated: string;
}

export const OperationPageDto = PageOf(OperationRowDto, 'OperationPage');

export class ListOperationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: OPERATION_STATES,
    enumName: 'OperationState',
    description: 'only operations in this state',
  })
  @IsOptional()
  @IsIn(OPERATION_STATES)
  state?: (typeof OPERATION_STATES)[number];
}
