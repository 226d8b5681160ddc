import { Audited } from '../../common/http/audited';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LegacyApi } from '../../common/http/legacy';
import { Access } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { ReconcileDto, ReconcileReportDto } from './dto/reconcile.dto';
import { ReconcileReport, ReconcileService } from './reconcile.service';

/** The consistency check of DB, pool, targets and boot files (admin; BMI extension). */
@ApiTags('operations')
@LegacyApi()
@Controller()
export class ReconcileController {
  constructor(private readonly reconciler: ReconcileService) {}

  @Post('reconcile')
  @Audited()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Compare the database, the pool, the iSCSI targets and the boot files; with fix, repair what is safe (admin)',
  })
  @ApiOkResponse({ type: ReconcileReportDto })
  reconcile(@Access('admin') _scope: ProjectScope, @Body() dto: ReconcileDto): Promise<ReconcileReport> {
    return this.reconciler.reconcile({ fix: dto.fix === true });
  }
}
