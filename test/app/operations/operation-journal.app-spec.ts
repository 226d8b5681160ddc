import { Logger } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImagesService } from '../../../src/modules/images/images.service';
import { OperationEntity } from '../../../src/modules/operations/operation.entity';
import { LEASE_MS, TypeOrmOperationJournal } from '../../../src/modules/operations/operation-journal.service';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { failOn } from '../../utils/faults';
import { ADMIN, ALICE, startTestApp, TestApp } from '../../utils/test-app';

/** The operation journal on the real DB (SQLite :memory:, real migrations), written by the real services. */

let t: TestApp;
let journal: TypeOrmOperationJournal;
let rows: Repository<OperationEntity>;
let warnings: string[];

beforeEach(async () => {
  warnings = [];
  jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({ fakeImages: ['bmi_test'] });
  journal = t.app.get(TypeOrmOperationJournal);
  rows = t.app.get<Repository<OperationEntity>>(getRepositoryToken(OperationEntity));
  await t.app.get(ProjectsService).add('proj1');
  await t.app.get(ImagesService).importImage(await t.scope(ADMIN, 'proj1', 'admin'), 'bmi_test');
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

const names = (steps: { name: string; state: string }[]) => steps.map((s) => `${s.state}: ${s.name}`);

describe('every multi-step operation is journaled', () => {
  it('a create_disk that succeeds: intent, caller, each step done, then done', async () => {
    await t.app.get(DisksService).createDisk(await t.scope(ALICE, 'proj1'), 'web1', 'bmi_test');
    const [op] = await journal.list({ limit: 1 });
    expect(op).toMatchObject({
      kind: 'create_disk',
      project: 'proj1',
      actor: 'alice',
      state: 'done',
      args: { disk: 'web1', image: 'bmi_test' },
      error: null,
    });
    expect(names(op.steps)).toEqual([
      'done: insert image row web1',
      expect.stringMatching(/^done: clone .* to /),
      expect.stringMatching(/^done: export .* over iSCSI$/),
      'done: mark web1 exported',
    ]);
    // each step with the action that undoes it, and how long it took
    expect(op.steps[0].undo).toEqual({ type: 'image.row.delete', args: { id: expect.any(Number) } });
    expect(op.steps[1].undo).toEqual({ type: 'rbd.remove', args: { image: expect.stringMatching(/^5img\d+$/) } });
    expect(op.steps[2].undo).toEqual({ type: 'iscsi.unexport', args: { image: expect.any(String) } });
    expect(op.steps[3].undo).toEqual({ type: 'image.row.exported', args: { id: expect.any(Number), exported: false } });
    for (const step of op.steps) expect(step.ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(op.updated)).toBeGreaterThanOrEqual(Date.parse(op.started));
  });

  it('the disk in the pool names its BMI, the operation that made it and its source', async () => {
    const target = await t.app.get(DisksService).createDisk(await t.scope(ALICE, 'proj1'), 'web1', 'bmi_test');
    const [op] = await journal.list({ limit: 1 });
    expect(await t.storage.getMetadata(target)).toEqual({
      bmi_uid: '5',
      bmi_operation: op.id,
      bmi_source: `${(await t.storage.parentOf(target))!.image}@bmi_snapshot`,
    });
  });

  it('a create_disk whose clone fails: the failed step, the undone row, rolled back with the cause', async () => {
    failOn(t.storage, 'clone', () => true, new Error('no space left'));
    await expect(
      t.app.get(DisksService).createDisk(await t.scope(ALICE, 'proj1'), 'web1', 'bmi_test'),
    ).rejects.toThrow();
    const [op] = await journal.list({ limit: 1 });
    expect(op.state).toBe('rolled_back');
    expect(op.error).toMatch(/^clone .*: no space left$/);
    expect(names(op.steps)).toEqual(['undone: insert image row web1', expect.stringMatching(/^failed: clone /)]);
    expect(await journal.list({ state: 'done' })).toHaveLength(1); // the import in beforeEach
  });
});

describe('operations cut short', () => {
  it('are marked interrupted once their lease lapsed, and logged with the steps they got through', async () => {
    const op = await journal.begin({ kind: 'create_disk', project: 'proj1', actor: 'alice', args: { disk: 'x' } });
    const i = await op.started('insert image row x', { undo: { type: 'image.row.delete', args: { id: 99 } } });
    await op.update(i, 'done');
    // this instance's own operation, lease still running: left alone
    expect(await journal.markInterrupted()).toBe(0);
    // its instance died (another one, on another host): nobody renews the lease
    await rows.update({ id: op.id }, { owner: 'other-host:1:gone' });
    const later = Date.now() + LEASE_MS + 1;
    journal.now = () => later;
    expect(await journal.markInterrupted()).toBe(1);
    const [row] = await journal.list({ state: 'interrupted' });
    // its `done` was to ride on the next write, which never came: recovery treats a started step alike
    expect(row).toMatchObject({
      id: op.id,
      kind: 'create_disk',
      steps: [{ name: 'insert image row x', state: 'started' }],
    });
    expect(warnings.join('\n')).toContain(`operation ${op.id} (create_disk in proj1, {"disk":"x"}) was interrupted`);
    expect(warnings.join('\n')).toContain('after "insert image row x"');
    expect(await journal.markInterrupted()).toBe(0);
  });

  it("a step's done is written with the next write: the next step's start, or the end (with its duration)", async () => {
    const op = await journal.begin({ kind: 'provision', args: { node: 'n' } });
    const update = jest.spyOn(rows, 'update');
    const a = await op.started('a', { undo: { type: 'x', args: {} } });
    await op.update(a, 'done');
    const stored = async () => (await journal.list()).find((o) => o.id === op.id)!.steps;
    expect((await stored()).map((s) => s.state)).toEqual(['started']);
    const b = await op.started('b', { undo: { type: 'x', args: {} } });
    expect((await stored()).map((s) => s.state)).toEqual(['done', 'started']);
    await op.update(b, 'done');
    await op.end('done');
    const steps = await stored();
    expect(steps.map((s) => s.state)).toEqual(['done', 'done']);
    expect(steps.every((s) => typeof s.ms === 'number')).toBe(true);
    // begin, two starts and the end: four writes for two steps (an insert and three updates)
    expect(update).toHaveBeenCalledTimes(3);
    update.mockRestore();
  });

  it('an end that could not be written stays under the lease and is written at the next renewal', async () => {
    const op = await journal.begin({ kind: 'provision', args: { node: 'n' } });
    const update = jest.spyOn(rows, 'update').mockRejectedValueOnce(new Error('database is locked'));
    await expect(op.end('done')).rejects.toThrow('database is locked');
    update.mockRestore();
    expect((await journal.list({ state: 'running' })).map((o) => o.id)).toEqual([op.id]);
    // two rounds at once (a slow database): the end is written once, the count of running operations kept
    await Promise.all([journal.maintain(), journal.maintain()]);
    expect((await journal.list({ state: 'done' })).map((o) => o.id)).toContain(op.id);
    const other = await journal.begin({ kind: 'deprovision', args: { node: 'n' } });
    const renewed = jest.spyOn(rows, 'update');
    await journal.maintain();
    expect(renewed).toHaveBeenCalledWith(
      { owner: journal.instance, state: In(['running', 'interrupted']) },
      expect.anything(),
    );
    await other.end('done');
    expect(await journal.list({ state: 'running' })).toEqual([]);
  });

  it('at start, a lapsed operation of another instance is marked interrupted and rolled back', async () => {
    await rows.insert({
      id: '00000000-0000-4000-8000-000000000001',
      kind: 'delete_disk',
      project: 'proj1',
      actor: 'alice',
      args: '{"disk":"old"}',
      state: 'running',
      steps: '[]',
      error: null,
      owner: 'another-host:1:dead',
      leaseUntil: Date.now() - 1,
      startedAt: Date.now() - 5000,
      updatedAt: Date.now() - 5000,
    });
    await journal.onModuleInit();
    journal.onApplicationShutdown();
    const [op] = await journal.list({ state: 'rolled_back' });
    expect(op).toMatchObject({ kind: 'delete_disk' });
    expect(op.error).toBe('interrupted (instance another-host:1:dead stopped); rolled back at recovery');
  });
});
