import { Global, Module } from '@nestjs/common';
import { OperationLocks } from '../../common/concurrency/locks';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OperationJournal } from '../../common/orchestration/journal';
import { AccessModule } from '../access/access.module';
import { BmiInstance, DatabaseLocks, Leases } from './coordination';
import { LeaseEntity, ResourceLockEntity } from './coordination.entities';
import { OperationEntity } from './operation.entity';
import { TypeOrmOperationJournal } from './operation-journal.service';
import { OperationsController } from './operations.controller';
import { OperationsV1Controller } from './operations-v1.controller';
import { Sagas } from './sagas';
import { OperationLauncher } from './operation-launcher';

/**
 * The operation journal (every multi-step operation runs through Sagas and is recorded in the database), and
 * what instances sharing the database coordinate through: the locks every module takes, and named leases.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OperationEntity, ResourceLockEntity, LeaseEntity]), AccessModule],
  controllers: [OperationsController, OperationsV1Controller],
  providers: [
    BmiInstance,
    DatabaseLocks,
    { provide: OperationLocks, useExisting: DatabaseLocks },
    Leases,
    TypeOrmOperationJournal,
    { provide: OperationJournal, useExisting: TypeOrmOperationJournal },
    Sagas,
    OperationLauncher,
  ],
  exports: [Sagas, OperationLauncher, TypeOrmOperationJournal, OperationLocks, Leases, BmiInstance],
})
export class OperationsModule {}
