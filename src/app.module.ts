import { DynamicModule, Module, Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfig } from './config/app-config';
import { ConcurrencyModule } from './common/concurrency/locks';
import { IdempotencyModule } from './common/http/idempotency';
import { SagaActionsModule } from './common/orchestration/actions';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { StandaloneModule } from './modules/standalone/standalone.module';
import { ImagesModule } from './modules/images/images.module';
import { IscsiModule } from './modules/iscsi/iscsi.module';
import { NodesModule } from './modules/nodes/nodes.module';
import { OperationsModule } from './modules/operations/operations.module';
import { ReconcileModule } from './modules/reconcile/reconcile.module';
import { ProjectsAdminModule } from './modules/projects/projects-admin.module';
import { TftpModule } from './modules/tftp/tftp.module';
import { ServiceModule } from './modules/service/service.module';
import { AuditModule } from './modules/audit/audit.module';
import { MetricsModule } from './common/observability/metrics';

@Module({})
export class AppModule {
  /** `infrastructure`: modules the entry point builds (logging), loaded first. */
  static forRoot(config: AppConfig, infrastructure: (DynamicModule | Type)[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...infrastructure,
        ConfigModule.forRoot(config),
        MetricsModule,
        ConcurrencyModule,
        IdempotencyModule,
        SagaActionsModule,
        ScheduleModule.forRoot(),
        DatabaseModule,
        ProjectsAdminModule,
        IscsiModule,
        TftpModule,
        ImagesModule,
        NodesModule,
        OperationsModule,
        ReconcileModule,
        StandaloneModule,
        ServiceModule,
        AuditModule,
      ],
    };
  }
}
