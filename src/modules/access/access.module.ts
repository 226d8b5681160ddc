import { Module } from '@nestjs/common';
import { HilModule } from '../hil/hil.module';
import { ProjectsModule } from '../projects/projects.module';
import { AccessPipe } from './access.decorator';
import { ProjectAccess } from './project-access.service';

/**
 * Where authorisation is decided: routes declare what they need with `@Access(...)`, and AccessPipe turns the
 * declaration into the ProjectScope the handler passes on to its service.
 */
@Module({
  imports: [HilModule, ProjectsModule],
  providers: [ProjectAccess, AccessPipe],
  exports: [ProjectAccess, AccessPipe],
})
export class AccessModule {}
