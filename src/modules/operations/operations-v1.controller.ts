import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { NotFoundError } from '../../common/errors/domain-error';
import { decodeCursor, encodeCursor, Page, unknownCursor } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { AccessInPath, AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { ListOperationsQueryDto, OperationPageDto, OperationRowDto } from './dto/operations.dto';
import { OperationRow, TypeOrmOperationJournal } from './operation-journal.service';

export class OperationNotFoundError extends NotFoundError {
  override readonly code = 'OPERATION_NOT_FOUND';
  constructor(id: string, project: string) {
    super(`No operation ${id} in project ${project}`);
  }
}

/**
 * The operation journal: every multi-step operation, with its steps, progress and end. A project's members see
 * its operations (those a long request answered 202 with, to poll); admins see every project's.
 */
@V1Api('operations')
@Controller(V1)
export class OperationsV1Controller {
  constructor(private readonly journal: TypeOrmOperationJournal) {}

  @Get('operations')
  @ApiOperation({ summary: 'Every operation, newest first (admin)' })
  @ApiOkResponse({ type: OperationPageDto })
  @ApiErrors(403)
  listAllOperations(
    @AdminAccess() _: ProjectScope,
    @Query() query: ListOperationsQueryDto,
  ): Promise<Page<OperationRow>> {
    return this.page(undefined, query);
  }

  @Get('projects/:project/operations')
  @ApiProjectParam()
  @ApiOperation({ summary: 'The operations of the project, newest first' })
  @ApiOkResponse({ type: OperationPageDto })
  @ApiErrors()
  async listOperations(
    @AccessInPath('member') scope: ProjectScope,
    @Query() query: ListOperationsQueryDto,
  ): Promise<Page<OperationRow>> {
    const page = await this.page(scope.project.name, query);
    return { ...page, items: page.items.map(withoutActions) };
  }

  @Get('projects/:project/operations/:operation')
  @ApiProjectParam()
  @ApiParam({ name: 'operation', schema: { type: 'string', example: '0f6d5c1e-2a4b-4c3d-9e8f-7a6b5c4d3e2f' } })
  @ApiOperation({ summary: 'One operation of the project: poll it until its state is no longer running' })
  @ApiOkResponse({ type: OperationRowDto })
  @ApiErrors()
  async getOperation(
    @AccessInPath('member') scope: ProjectScope,
    @Param('operation') id: string,
  ): Promise<OperationRow> {
    const op = id.length <= 36 ? await this.journal.get(id) : null;
    if (!op || op.project !== scope.project.name) throw new OperationNotFoundError(id.slice(0, 36), scope.project.name);
    return withoutActions(op);
  }

  private async page(project: string | undefined, query: ListOperationsQueryDto): Promise<Page<OperationRow>> {
    const after = query.cursor === undefined ? undefined : parseAfter(decodeCursor(query.cursor));
    const { rows, last } = await this.journal.page({ project, state: query.state, limit: query.limit ?? 100, after });
    return { items: rows, next_cursor: last ? encodeCursor(`${last.startedAt}/${last.id}`) : null };
  }
}

/**
 * An operation as a project's members see it: its steps without the actions that undo or complete them (they
 * name RBD images and boot files, the business of the admins, who see them in /v1/operations).
 */
function withoutActions(op: OperationRow): OperationRow {
  return { ...op, steps: op.steps.map(({ name, state, at, ms }) => ({ name, state, at, ms })) };
}

function parseAfter(key: string): { startedAt: number; id: string } {
  const slash = key.indexOf('/');
  const startedAt = Number(key.slice(0, slash));
  if (slash <= 0 || !Number.isSafeInteger(startedAt)) throw unknownCursor();
  return { startedAt, id: key.slice(slash + 1) };
}
