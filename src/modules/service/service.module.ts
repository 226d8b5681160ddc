import { Module } from '@nestjs/common';
import { HilModule } from '../hil/hil.module';
import { ImagesModule } from '../images/images.module';
import { IscsiModule } from '../iscsi/iscsi.module';
import { GracefulShutdown } from './graceful-shutdown';
import { MetricsAccess } from './metrics-access';
import { ReadinessService } from './readiness.service';
import { ServiceController } from './service.controller';

/** Liveness, readiness, version and metrics of this instance, and how it stops. */
@Module({
  imports: [ImagesModule, IscsiModule, HilModule],
  controllers: [ServiceController],
  providers: [ReadinessService, MetricsAccess, GracefulShutdown],
})
export class ServiceModule {}
