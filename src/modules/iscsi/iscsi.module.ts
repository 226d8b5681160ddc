import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { FakeIscsiTargetDriver } from './drivers/fake-iscsi-target.driver';
import { IscsiTargetDriver } from './iscsi-target.driver';
import { IscsiService } from './iscsi.service';
import { DriverUnavailableError } from '../../common/errors/driver-unavailable';

export function iscsiDriverFactory(config: AppConfig): IscsiTargetDriver {
  switch (config.drivers.iscsi) {
    case 'fake':
      return new FakeIscsiTargetDriver();
    case 'tgt':
      throw DriverUnavailableError.of('iscsi', 'tgt');
  }
}

@Module({
  providers: [{ provide: IscsiTargetDriver, inject: [AppConfig], useFactory: iscsiDriverFactory }, IscsiService],
  exports: [IscsiService],
})
export class IscsiModule {}
