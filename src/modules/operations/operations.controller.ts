import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LegacyApi } from '../../common/http/legacy';
import { Access } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { ListOperationsDto, OperationRowDto } from './dto/operations.dto';
import { OperationRow, TypeOrmOperationJournal } from './operation-journal.service';

/** The operation journal (admin; BMI extension). */
@ApiTags('operations')
@LegacyApi()
@Controller()
export class OperationsController {
  constructor(private readonly journal: TypeOrmOperationJournal) {}

  @Post('list_operations')
  @HttpCode(200)
  @ApiOperation({ summary: 'Multi-step operations, newest first, with their steps and how they ended (admin)' })
  @ApiOkResponse({ type: [OperationRowDto] })
  listOperations(@Access('admin') _scope: ProjectScope, @Body() dto: ListOperationsDto): Promise<OperationRow[]> {
    return this.journal.list({ state: dto.state, limit: dto.limit });
  }
}
