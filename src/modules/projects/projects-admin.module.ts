import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ProjectsController } from './projects.controller';
import { ProjectsV1Controller } from './projects-v1.controller';
import { ProjectsModule } from './projects.module';

/** The project administration routes (admin only). */
@Module({
  imports: [ProjectsModule, AccessModule],
  controllers: [ProjectsController, ProjectsV1Controller],
})
export class ProjectsAdminModule {}
