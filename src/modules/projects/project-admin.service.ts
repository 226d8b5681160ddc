import { Injectable } from '@nestjs/common';
import { AccessService } from '../hil/access.service';
import { Caller } from '../hil/caller';
import { ProjectRow, ProjectsService } from './projects.service';

/** The project operations as offered to callers: each one needs a BMI admin. */
@Injectable()
export class ProjectAdminService {
  constructor(
    private readonly projects: ProjectsService,
    private readonly access: AccessService,
  ) {}

  async list(caller: Caller): Promise<ProjectRow[]> {
    await this.access.assertAdmin(caller);
    return this.projects.list();
  }

  async add(caller: Caller, name: string, id?: number): Promise<ProjectRow> {
    await this.access.assertAdmin(caller);
    return this.projects.add(name, id);
  }

  async delete(caller: Caller, name: string): Promise<void> {
    await this.access.assertAdmin(caller);
    await this.projects.delete(name);
  }
}
