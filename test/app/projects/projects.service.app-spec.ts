import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ADMIN, startTestApp, TestApp } from '../../utils/test-app';
import { ImagesService } from '../../../src/modules/images/images.service';
import { ProjectEntity } from '../../../src/modules/projects/project.entity';
import {
  ProjectExistsError,
  ProjectNotEmptyError,
  ProjectNotFoundError,
} from '../../../src/modules/projects/projects.errors';
import { FK_VIOLATION } from '../../utils/test-db';
import { ProjectsService } from '../../../src/modules/projects/projects.service';

/** ProjectsService on the real DB (SQLite :memory: with the real migration). */

let t: TestApp;
let projects: ProjectsService;

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp();
  projects = t.app.get(ProjectsService);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

describe('ProjectsService: the admin project', () => {
  it('exists from the first start on, as project 1', async () => {
    expect(await projects.list()).toEqual([{ id: 1, name: 'bmi_infra' }]);
  });

  it('is not created twice', async () => {
    await projects.onApplicationBootstrap();
    expect(await projects.list()).toEqual([{ id: 1, name: 'bmi_infra' }]);
  });

  it('follows [bmi] admin_project', async () => {
    const other = await startTestApp({ extraIni: ['[bmi]', 'admin_project = admins'] });
    try {
      expect(await other.app.get(ProjectsService).list()).toEqual([{ id: 1, name: 'admins' }]);
    } finally {
      await other.close();
    }
  });

  it('cannot be deleted (409)', async () => {
    await expect(projects.delete('bmi_infra')).rejects.toMatchObject({ status: 409 });
    expect(await projects.list()).toEqual([{ id: 1, name: 'bmi_infra' }]);
  });
});

/** The original's tests/unit/database/test_project.py (reference §7.2). */
describe('test_project.py', () => {
  it('TestInsert: an added project is listed', async () => {
    expect(await projects.add('project1')).toEqual({ id: 2, name: 'project1' });
    expect(await projects.list()).toEqual([
      { id: 1, name: 'bmi_infra' },
      { id: 2, name: 'project1' },
    ]);
  });

  it('TestDelete: a deleted project is gone from the listing', async () => {
    await projects.add('project1');
    await projects.delete('project1');
    expect((await projects.list()).map((p) => p.name)).toEqual(['bmi_infra']);
    await expect(projects.require('project1')).rejects.toThrow(ProjectNotFoundError);
  });

  it('TestFetch: the id is found by name', async () => {
    const { id } = await projects.add('project1');
    expect(await projects.require('project1')).toMatchObject({ id, name: 'project1' });
  });
});

describe('ProjectsService.add', () => {
  it('one id asked for by two names at once: one project, one 409 (the locks are per name)', async () => {
    const results = await Promise.allSettled([projects.add('twin_a', 9), projects.add('twin_b', 9)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(refused.reason).toMatchObject({ status: 409, message: 'Project id 9 is already taken' });
    expect((await projects.list()).filter((p) => p.id === 9)).toHaveLength(1);
  });

  it('keeps an explicit id', async () => {
    expect(await projects.add('project7', 7)).toEqual({ id: 7, name: 'project7' });
    expect((await projects.require('project7')).id).toBe(7);
  });

  it('refuses a taken name (409) and a taken id (409)', async () => {
    await projects.add('project1');
    const err = await projects.add('project1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProjectExistsError);
    expect(err).toMatchObject({ status: 409, message: 'Project project1 already exists' });
    await expect(projects.add('project2', 1)).rejects.toMatchObject({
      status: 409,
      message: 'Project id 1 is already taken',
    });
    expect((await projects.list()).map((p) => p.name)).toEqual(['bmi_infra', 'project1']);
  });

  it('never reuses the id of a deleted project', async () => {
    await projects.add('project1');
    const { id } = await projects.add('project2');
    await projects.delete('project2');
    expect((await projects.add('project3')).id).toBe(id + 1);
  });
});

describe('ProjectsService.require', () => {
  it('an unknown project is 404 "<name> not found"', async () => {
    const err = await projects.require('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProjectNotFoundError);
    expect(err).toMatchObject({ status: 404, message: 'nope not found' });
  });
});

describe('ProjectsService.delete', () => {
  it('a project that is not there is a 404', async () => {
    await expect(projects.delete('nope')).rejects.toMatchObject({ status: 404, message: 'nope not found' });
  });

  it('refuses a project that still has images (409), leaving project and images', async () => {
    await projects.add('proj1');
    await t.app.get(ImagesService).importImage(await t.scope(ADMIN, 'proj1', 'admin'), 'bmi_test');
    const err = await projects.delete('proj1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProjectNotEmptyError);
    expect((err as Error).message).toBe('Project proj1 still has 1 image(s); remove or move them first');
    expect(await t.app.get(ImagesService).listImages(await t.scope(ADMIN, 'proj1'))).toEqual(['bmi_test']);
  });

  it('the database itself refuses to orphan images (foreign keys are enforced)', async () => {
    const { id } = await projects.add('proj1');
    await t.app.get(ImagesService).addImage(await t.scope(ADMIN, 'proj1', 'admin'), { name: 'img' });
    const repo = t.app.get(DataSource).getRepository(ProjectEntity);
    jest.spyOn(console, 'log').mockImplementation(() => undefined); // TypeORM logs the failed query
    await expect(repo.delete({ id })).rejects.toThrow(FK_VIOLATION);
  });
});
