import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../../config/app-config';
import { DriverUnavailableError } from '../../common/errors/driver-unavailable';
import { HilModule } from '../hil/hil.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { ProjectsModule } from '../projects/projects.module';
import { DisksService } from './disks.service';
import { ImageCatalog } from './image-catalog';
import { ImageEntity } from './image.entity';
import { ImagesController } from './images.controller';
import { ImagesService } from './images.service';
import { BlockStorage } from './storage/block-storage';
import { FakeBlockStorage } from './storage/fake-block-storage';
import { StorageLifecycle } from './storage/storage-lifecycle';

export function storageFactory(config: AppConfig): BlockStorage {
  switch (config.drivers.fs) {
    case 'fake':
      return new FakeBlockStorage(
        config.fs.pool || 'bmi',
        config.fs.fakeImages.map((image) => ({ image })),
      );
    case 'ceph':
      throw DriverUnavailableError.of('fs', 'ceph');
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([ImageEntity]), ProjectsModule, HilModule, IscsiModule],
  controllers: [ImagesController],
  providers: [
    { provide: BlockStorage, inject: [AppConfig], useFactory: storageFactory },
    StorageLifecycle,
    ImageCatalog,
    ImagesService,
    DisksService,
  ],
  exports: [ImagesService, DisksService, ImageCatalog],
})
export class ImagesModule {}
