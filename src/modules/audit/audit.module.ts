import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessModule } from '../access/access.module';
import { AuditRecordEntity } from './audit-record.entity';
import { AuditInterceptor } from './audit.interceptor';
import { AuditService } from './audit.service';
import { AuditV1Controller } from './audit-v1.controller';

/** The audit trail: one record per mutation, on every route (a global interceptor), and its admin view. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditRecordEntity]), AccessModule],
  controllers: [AuditV1Controller],
  providers: [AuditService, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
})
export class AuditModule {}
