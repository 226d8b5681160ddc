import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { OperationsModule } from '../operations/operations.module';
import { ImagesModule } from '../images/images.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { TftpModule } from '../tftp/tftp.module';
import { HilModule } from '../hil/hil.module';
import { DeploymentsService } from './deployments.service';
import { BootController } from './boot.controller';
import { NodesController } from './nodes.controller';
import { NodesV1Controller } from './nodes-v1.controller';
import { NodesService } from './nodes.service';

@Module({
  imports: [ImagesModule, IscsiModule, TftpModule, AccessModule, OperationsModule, HilModule],
  controllers: [NodesController, BootController, NodesV1Controller],
  providers: [NodesService, DeploymentsService],
})
export class NodesModule {}
