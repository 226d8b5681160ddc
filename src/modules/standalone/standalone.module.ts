import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProjectsModule } from '../projects/projects.module';
import { AccessModule } from '../access/access.module';
import { STANDALONE_ENTITIES } from './standalone.entities';
import { StandaloneAdminService } from './standalone-admin.service';
import { StandaloneController } from './standalone.controller';
import { StandaloneV1Controller } from './standalone-v1.controller';

/**
 * Standalone mode's administration: users, memberships, nodes and NICs over the admin routes, and the first
 * admin user at the first start. Registered in every mode (the routes answer 409 outside standalone mode).
 */
@Module({
  imports: [TypeOrmModule.forFeature(STANDALONE_ENTITIES), AccessModule, ProjectsModule],
  controllers: [StandaloneController, StandaloneV1Controller],
  providers: [StandaloneAdminService],
})
export class StandaloneModule {}
