import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HilModule } from '../hil/hil.module';
import { ProjectAdminService } from './project-admin.service';
import { ProjectEntity } from './project.entity';
import { ProjectsController } from './projects.controller';
import { ProjectsService } from './projects.service';

@Module({
  imports: [TypeOrmModule.forFeature([ProjectEntity]), HilModule],
  controllers: [ProjectsController],
  providers: [ProjectsService, ProjectAdminService],
  exports: [ProjectsService],
})
export class ProjectsModule {}
