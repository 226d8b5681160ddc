import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OperationJournal } from '../../common/orchestration/journal';
import { AccessModule } from '../access/access.module';
import { OperationEntity } from './operation.entity';
import { TypeOrmOperationJournal } from './operation-journal.service';
import { OperationsController } from './operations.controller';
import { Sagas } from './sagas';

/** The operation journal: every multi-step operation runs through Sagas and is recorded in the database. */
@Module({
  imports: [TypeOrmModule.forFeature([OperationEntity]), AccessModule],
  controllers: [OperationsController],
  providers: [TypeOrmOperationJournal, { provide: OperationJournal, useExisting: TypeOrmOperationJournal }, Sagas],
  exports: [Sagas, TypeOrmOperationJournal],
})
export class OperationsModule {}
