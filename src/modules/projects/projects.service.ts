import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { ConflictError } from '../../common/errors/domain-error';
import { insertRow } from '../../database/insert-row';
import { DbWriteLock, exclusive, lockKey, OperationLocks, LockedCheck } from '../../common/concurrency/locks';
import { isUniqueViolation } from '../../database/unique-violation';
import { ProjectEntity } from './project.entity';
import { ProjectExistsError, ProjectNotEmptyError, ProjectNotFoundError } from './projects.errors';

export interface ProjectRow {
  id: number;
  name: string;
}

/** The project table. Authorisation is the caller's business (the services that expose these operations). */
@Injectable()
export class ProjectsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProjectsService.name);

  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    private readonly config: AppConfig,
    private readonly locks: OperationLocks,
    private readonly dbLock: DbWriteLock,
  ) {}

  /** The admin project exists from the first start on (the original's install guide inserted it by hand). */
  async onApplicationBootstrap(): Promise<void> {
    const name = this.config.bmi.adminProject;
    if (await this.projects.existsBy({ name })) return;
    try {
      await this.dbLock.run(() => this.projects.insert({ name }));
      this.logger.log(`created the admin project ${name}`);
    } catch (e) {
      // another instance starting at the same moment made it
      if (!isUniqueViolation(e)) throw e;
    }
  }

  async require(name: string): Promise<ProjectEntity> {
    const project = await this.projects.findOneBy({ name });
    if (!project) throw new ProjectNotFoundError(name);
    return project;
  }

  async list(): Promise<ProjectRow[]> {
    const rows = await this.projects.find({ order: { id: 'ASC' } });
    return rows.map((p) => ({ id: p.id, name: p.name }));
  }

  async add(name: string, id?: number): Promise<ProjectRow> {
    return this.locks.run([exclusive(lockKey.project(name))], async () => {
      if (await this.projects.existsBy({ name })) throw new ProjectExistsError(name);
      if (id !== undefined && (await this.projects.existsBy({ id }))) {
        throw new ConflictError(`Project id ${id} is already taken`);
      }
      try {
        const newId = await this.dbLock.run(() => insertRow(this.projects.manager, ProjectEntity, { id, name }));
        return { id: newId, name };
      } catch (e) {
        // the same id asked for under another name at the same moment (the locks are per name)
        if (isUniqueViolation(e)) throw new ConflictError(`Project id ${id} is already taken`);
        throw e;
      }
    });
  }

  /**
   * Deletes an empty project. The original cascaded the delete to the project's image rows and left their Ceph
   * images behind; here a project that still has images is refused. An unknown project is a 404, as everywhere.
   */
  async delete(name: string, check?: LockedCheck): Promise<void> {
    if (name === this.config.bmi.adminProject) {
      throw new ConflictError(`The admin project ${name} cannot be deleted`);
    }
    await this.locks.run([exclusive(lockKey.project(name))], async () => {
      await check?.();
      const project = await this.projects.findOne({ where: { name }, relations: { images: true } });
      if (!project) throw new ProjectNotFoundError(name);
      if (project.images?.length) {
        throw new ProjectNotEmptyError(
          `Project ${name} still has ${project.images.length} image(s); remove or move them first`,
        );
      }
      await this.dbLock.run(() => this.projects.delete({ id: project.id }));
    });
  }
}
