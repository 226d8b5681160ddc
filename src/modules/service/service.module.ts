import { Module } from '@nestjs/common';
import { HilModule } from '../hil/hil.module';
import { ImagesModule } from '../images/images.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { MetricsAccess } from './metrics-access';
import { ReadinessService } from './readiness.service';
import { ServiceController } from './service.controller';

/** Liveness, readiness, version and metrics of this instance. */
@Module({
  imports: [ImagesModule, IscsiModule, HilModule],
  controllers: [ServiceController],
  providers: [ReadinessService, MetricsAccess],
})
export class ServiceModule {}
