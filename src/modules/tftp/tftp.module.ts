import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { BootFileStore } from './boot-file.store';
import { FsBootFileStore } from './drivers/fs-boot-file.store';
import { TftpService } from './tftp.service';

@Module({
  providers: [
    {
      provide: BootFileStore,
      inject: [AppConfig],
      useFactory: (c: AppConfig) =>
        new FsBootFileStore({ ipxe: c.tftp.ipxePath, pxelinux: c.tftp.pxelinuxPath, mac: c.tftp.ipxeMacPath }),
    },
    TftpService,
  ],
  exports: [TftpService],
})
export class TftpModule {}
