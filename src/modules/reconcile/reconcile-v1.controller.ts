import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSchema } from '@nestjs/swagger';
import { FlagField } from '../../common/http/fields';
import { ApiErrors, V1, V1Api } from '../../common/http/v1-face';
import { AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { ReconcileReportDto } from './dto/reconcile.dto';
import { ReconcileReport, ReconcileService } from './reconcile.service';

@ApiSchema({ name: 'ReconcileRequest' })
export class ReconcileRequestDto {
  @FlagField('also repair what is safe to repair (default: only report)') fix?: boolean;
}

/** The consistency check of the database, the pool, the iSCSI targets and the boot files. */
@V1Api('admin')
@Controller(V1)
export class ReconcileV1Controller {
  constructor(private readonly reconciler: ReconcileService) {}

  @Post('reconcile')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compare the database, the pool, the targets and the boot files; with fix, repair (admin)' })
  @ApiOkResponse({ type: ReconcileReportDto })
  @ApiErrors(403, 409)
  reconcile(@AdminAccess() _: ProjectScope, @Body() dto: ReconcileRequestDto): Promise<ReconcileReport> {
    return this.reconciler.reconcile({ fix: dto.fix === true });
  }
}
