import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IscsiCredentialEntity } from './iscsi-credential.entity';
import { AppConfig } from '../../config/app-config';
import { CommandRunner } from '../../common/process/command-runner';
import { ProcessModule } from '../../common/process/process.module';
import { FakeIscsiTargetDriver } from './drivers/fake-iscsi-target.driver';
import { TgtIscsiTargetDriver } from './drivers/tgt-iscsi-target.driver';
import { IscsiTargetDriver } from './iscsi-target.driver';
import { IscsiService } from './iscsi.service';
import { Metrics } from '../../common/observability/metrics';

export function iscsiDriverFactory(config: AppConfig, runner: CommandRunner, metrics?: Metrics): IscsiTargetDriver {
  switch (config.drivers.iscsi) {
    case 'fake':
      return new FakeIscsiTargetDriver();
    case 'tgt':
      return new TgtIscsiTargetDriver(runner, {
        controlPort: config.iscsi.tgtControlPort,
        pool: config.fs.pool,
        cephConf: config.fs.confFile,
        cephId: config.fs.id,
        lun: config.iscsi.lun,
        shared: config.iscsi.tgtShared,
        observe: metrics?.tgtadmCall,
      });
  }
}

@Module({
  imports: [ProcessModule, TypeOrmModule.forFeature([IscsiCredentialEntity])],
  providers: [
    { provide: IscsiTargetDriver, inject: [AppConfig, CommandRunner, Metrics], useFactory: iscsiDriverFactory },
    IscsiService,
  ],
  exports: [IscsiService],
})
export class IscsiModule {}
