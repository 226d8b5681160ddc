import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ImagesModule } from '../images/images.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { OperationsModule } from '../operations/operations.module';
import { TftpModule } from '../tftp/tftp.module';
import { ReconcileController } from './reconcile.controller';
import { ReconcileV1Controller } from './reconcile-v1.controller';
import { ReconcileService } from './reconcile.service';

/** The reconciler that compares everything BMI keeps (`bmi reconcile [--fix]`). */
@Module({
  imports: [ImagesModule, IscsiModule, TftpModule, OperationsModule, AccessModule],
  controllers: [ReconcileController, ReconcileV1Controller],
  providers: [ReconcileService],
})
export class ReconcileModule {}
