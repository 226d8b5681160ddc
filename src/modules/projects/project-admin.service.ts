import { Injectable } from '@nestjs/common';
import { AccessService } from '../hil/access.service';
import { Caller } from '../../common/auth/caller';
import { ProjectRow, ProjectsService } from './projects.service';

/**
 * The project operations as offered to callers: each one needs a BMI admin, acting from a project BMI knows
 * (like every other call, an unknown `project` is a 404, reference §2.1).
 */
@Injectable()
export class ProjectAdminService {
  constructor(
    private readonly projects: ProjectsService,
    private readonly access: AccessService,
  ) {}

  async list(caller: Caller): Promise<ProjectRow[]> {
    await this.authorize(caller);
    return this.projects.list();
  }

  async add(caller: Caller, name: string, id?: number): Promise<ProjectRow> {
    await this.authorize(caller);
    return this.projects.add(name, id);
  }

  async delete(caller: Caller, name: string): Promise<void> {
    await this.authorize(caller);
    await this.projects.delete(name);
  }

  private async authorize(caller: Caller): Promise<void> {
    await this.projects.require(caller.project);
    await this.access.assertAdmin(caller);
  }
}
