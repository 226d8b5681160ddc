import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { decodeCursor, encodeCursor, Page, unknownCursor } from '../../common/http/resources';
import { ApiErrors, V1, V1Api } from '../../common/http/v1-face';
import { AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { AuditRow, AuditService } from './audit.service';
import { AuditPageDto, ListAuditQueryDto } from './dto/audit.dto';

/** The audit trail of mutations, for admins. */
@V1Api('admin')
@Controller(V1)
export class AuditV1Controller {
  constructor(private readonly audit: AuditService) {}

  @Get('audit')
  @ApiOperation({
    summary: 'Every mutation asked of BMI, newest first: who, from which project, what, the answer (admin)',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrors(403)
  async listAudit(@AdminAccess() _: ProjectScope, @Query() query: ListAuditQueryDto): Promise<Page<AuditRow>> {
    let before: number | undefined;
    if (query.cursor !== undefined) {
      before = Number(decodeCursor(query.cursor));
      if (!Number.isSafeInteger(before)) throw unknownCursor();
    }
    const { rows, last } = await this.audit.page({
      project: query.project,
      actor: query.actor,
      action: query.action,
      limit: query.limit ?? 100,
      before,
    });
    return { items: rows, next_cursor: last === null ? null : encodeCursor(String(last)) };
  }
}
