import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../../config/app-config';
import { AccessModule } from '../access/access.module';
import { OperationsModule } from '../operations/operations.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { TftpModule } from '../tftp/tftp.module';
import { ProjectsModule } from '../projects/projects.module';
import { DisksService } from './disks.service';
import { ImageCatalog } from './image-catalog';
import { ImageEntity } from './image.entity';
import { ImagesController } from './images.controller';
import { ImagesV1Controller } from './images-v1.controller';
import { DisksV1Controller } from './disks-v1.controller';
import { AdminV1Controller } from './admin-v1.controller';
import { ImagesService } from './images.service';
import { UploadsService } from './uploads.service';
import { UploadsV1Controller } from './uploads-v1.controller';
import { ProcessModule } from '../../common/process/process.module';
import { BlockStorage } from './storage/block-storage';
import { CephRbdStorage } from './storage/ceph-rbd.storage';
import { FakeBlockStorage } from './storage/fake-block-storage';
import { StorageLifecycle } from './storage/storage-lifecycle';
import { StorageSteps } from './storage/storage-steps';
import { Fencing, SagaActions } from '../../common/orchestration/actions';
import { TargetReconciler } from './target-reconciler.service';
import { Metrics } from '../../common/observability/metrics';

export async function storageFactory(config: AppConfig, fencing: Fencing, metrics?: Metrics): Promise<BlockStorage> {
  switch (config.drivers.fs) {
    case 'fake':
      if (config.fs.fakeState) mkdirSync(path.dirname(path.resolve(config.fs.fakeState)), { recursive: true });
      return new FakeBlockStorage(
        config.fs.pool || 'bmi',
        config.fs.fakeImages.map((image) => ({ image })),
        config.fs.fakeState,
      );
    case 'ceph': {
      const ceph = await CephRbdStorage.connect({
        confFile: config.fs.confFile,
        clientId: config.fs.id,
        keyring: config.fs.keyring,
        pool: config.fs.pool,
        timeoutSeconds: config.fs.timeoutSeconds,
        maxCalls: config.fs.maxCalls,
        downSeconds: config.fs.downSeconds,
        observe: metrics?.cephCall,
      });
      // recorded with each operation, so that recovery after this process died can fence it
      fencing.use(await ceph.session(), (session) => ceph.fence(session));
      return ceph;
    }
  }
}

@Module({
  imports: [
    TypeOrmModule.forFeature([ImageEntity]),
    ProjectsModule,
    AccessModule,
    OperationsModule,
    IscsiModule,
    TftpModule,
    ProcessModule,
  ],
  controllers: [ImagesController, ImagesV1Controller, UploadsV1Controller, DisksV1Controller, AdminV1Controller],
  providers: [
    { provide: BlockStorage, inject: [AppConfig, Fencing, Metrics], useFactory: storageFactory },
    {
      provide: StorageSteps,
      inject: [BlockStorage, AppConfig, SagaActions],
      useFactory: (storage: BlockStorage, config: AppConfig, actions: SagaActions) => {
        const steps = new StorageSteps(storage, config.bmi.snapshot, config.bmi.uid);
        actions.register(steps.handlers());
        return steps;
      },
    },
    StorageLifecycle,
    ImageCatalog,
    ImagesService,
    DisksService,
    UploadsService,
    TargetReconciler,
  ],
  exports: [ImageCatalog, BlockStorage, StorageSteps, DisksService],
})
export class ImagesModule {}
