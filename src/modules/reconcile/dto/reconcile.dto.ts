import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { FlagField, ProjectScopedDto } from '../../../common/http/fields';
import { DRIFT_KINDS } from '../reconcile.service';

export class ReconcileDto extends ProjectScopedDto {
  @FlagField('also repair what is safe to repair (default: only report)')
  fix?: boolean;
}

@ApiSchema({ name: 'Drift' })
class DriftDto {
  @ApiProperty({ enum: [...DRIFT_KINDS] }) kind: string;
  @ApiProperty({ description: 'an image (with its Ceph name), a target, a boot file or an operation' })
  subject: string;
  @ApiProperty() detail: string;
  @ApiPropertyOptional({ description: 'the RBD image concerned' }) image?: string;
  @ApiPropertyOptional({ description: 'what fix does about it; absent when it is only reported' }) repair?: string;
  @ApiPropertyOptional({ description: 'with fix: whether the repair succeeded' }) repaired?: boolean;
  @ApiPropertyOptional({ description: 'why the repair failed' }) error?: string;
}

@ApiSchema({ name: 'Checked' })
class CheckedDto {
  @ApiProperty() rows: number;
  @ApiProperty({ description: "RBD images named like this BMI's" }) images: number;
  @ApiProperty() targets: number;
  @ApiProperty() bootFiles: number;
}

@ApiSchema({ name: 'ReconcileReport' })
export class ReconcileReportDto {
  @ApiProperty({ type: CheckedDto }) checked: CheckedDto;
  @ApiProperty({ type: [DriftDto] }) drift: DriftDto[];
  @ApiProperty({ description: 'whether repairs were attempted' }) fixed: boolean;
}
