import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ProjectsController } from './projects.controller';
import { ProjectsModule } from './projects.module';

/** The project administration routes (admin only). */
@Module({
  imports: [ProjectsModule, AccessModule],
  controllers: [ProjectsController],
})
export class ProjectsAdminModule {}
