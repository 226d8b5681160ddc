import { Logger } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { exclusive, lockKey, OperationLocks, shared } from '../../../src/common/concurrency/locks';
import { SagaActions } from '../../../src/common/orchestration/actions';
import { TargetReconciler } from '../../../src/modules/images/target-reconciler.service';
import { BmiInstance, Leases } from '../../../src/modules/operations/coordination';
import { ResourceLockEntity } from '../../../src/modules/operations/coordination.entities';
import { OperationEntity } from '../../../src/modules/operations/operation.entity';
import { TypeOrmOperationJournal } from '../../../src/modules/operations/operation-journal.service';
import { startTestApp, TestApp } from '../../utils/test-app';
import { sharedTestDatabase, TestDatabase, testEngine } from '../../utils/test-db';

/**
 * Two instances of BMI on one database (an SQLite file here, PostgreSQL in app-pg): the locks, the takeover of
 * a dead instance's operations and the named leases hold across them, through the database alone.
 */
/** locks in the database on SQLite too (two apps share the file here, as instances would) */
const DB_LOCKS = ['[db]', 'locks = database'];
let db: TestDatabase;
let a: TestApp;
let b: TestApp;

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  db = await sharedTestDatabase();
  a = await startTestApp({ database: db.location, extraIni: DB_LOCKS });
  b = await startTestApp({ database: db.location, extraIni: DB_LOCKS });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await a?.close();
  await b?.close();
  await db?.drop();
});

/** Resolves when `release` is called; `held` resolves once the locks are taken. */
function holdLocks(app: TestApp, requests: ReturnType<typeof exclusive>[]) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const taken = new Promise<void>((r) => (held = r));
  const done = app.app.get(OperationLocks).run(requests, async () => {
    held();
    await released;
  });
  return { taken, release, done };
}

/** Whether `p` settles within `ms` (the other instance polls every few ms). */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe(`two instances on one ${testEngine()} database`, () => {
  it('an exclusive lock taken by one holds the other back until it is released; shared locks do not', async () => {
    const key = lockKey.image(1, 'web1');
    const first = holdLocks(a, [exclusive(key)]);
    await first.taken;
    const order: string[] = [];
    const second = b.app.get(OperationLocks).run([exclusive(key)], async () => void order.push('b'));
    expect(await settlesWithin(second, 300)).toBe(false);
    order.push('a released');
    first.release();
    await first.done;
    await second;
    expect(order).toEqual(['a released', 'b']);

    const reader = holdLocks(a, [shared(key)]);
    await reader.taken;
    const otherReader = b.app.get(OperationLocks).run([shared(key)], async () => 'read');
    expect(await settlesWithin(otherReader, 2000)).toBe(true);
    const writer = b.app.get(OperationLocks).run([exclusive(key)], async () => 'written');
    expect(await settlesWithin(writer, 300)).toBe(false);
    reader.release();
    await expect(writer).resolves.toBe('written');
    const rows = a.app.get<Repository<ResourceLockEntity>>(getRepositoryToken(ResourceLockEntity));
    expect(await rows.count()).toBe(0);
  });

  it("a dead instance's operation keeps its locks until another instance has recovered it, once", async () => {
    const key = lockKey.node('node-01');
    const ops = a.app.get<Repository<OperationEntity>>(getRepositoryToken(OperationEntity));
    const locks = a.app.get<Repository<ResourceLockEntity>>(getRepositoryToken(ResourceLockEntity));
    const id = '00000000-0000-4000-8000-0000000000aa';
    const past = Date.now() - 120_000;
    // what an instance on another host left when it died in the middle of an operation
    await ops.insert({
      id,
      kind: 'provision',
      project: 'proj1',
      actor: 'alice',
      args: '{"node":"node-01"}',
      state: 'running',
      steps: JSON.stringify([
        { name: 'write boot files', state: 'started', at: past, undo: { type: 'test.undo', args: {} } },
      ]),
      error: null,
      owner: 'gone-host:1:dead',
      client: null,
      leaseUntil: past,
      startedAt: past,
      updatedAt: past,
    });
    await locks.insert({ key, holder: id, mode: 'shared', instance: 'gone-host:1:dead', leaseUntil: past });

    // its lock holds although its lease lapsed long ago: the operation is unfinished. Another shared lock on the
    // key is granted (and must not clear the dead one's row); an exclusive one waits
    await expect(a.app.get(OperationLocks).run([shared(key)], async () => 'shared too')).resolves.toBe('shared too');
    const waiting = b.app.get(OperationLocks).run([exclusive(key)], async () => 'after recovery');
    expect(await settlesWithin(waiting, 300)).toBe(false);

    // both instances run their periodic round at once; the undo runs once, by one of them
    let undone = 0;
    for (const app of [a, b]) app.app.get(SagaActions).register({ 'test.undo': async () => void undone++ });
    await Promise.all([a.app.get(TypeOrmOperationJournal).maintain(), b.app.get(TypeOrmOperationJournal).maintain()]);
    expect(undone).toBe(1);
    const op = await ops.findOneByOrFail({ id });
    expect(op.state).toBe('rolled_back');
    expect([a.app.get(BmiInstance).id, b.app.get(BmiInstance).id]).toContain(op.owner);
    await expect(waiting).resolves.toBe('after recovery');
    expect(await locks.count()).toBe(0);
  });

  it('an operation started under locks owns them: its id is their holder', async () => {
    const ops = b.app.get<Repository<OperationEntity>>(getRepositoryToken(OperationEntity));
    const locks = b.app.get<Repository<ResourceLockEntity>>(getRepositoryToken(ResourceLockEntity));
    let holders: string[] = [];
    await a.app.get(OperationLocks).run([exclusive(lockKey.node('n9'))], async () => {
      const op = await a.app.get(TypeOrmOperationJournal).begin({ kind: 'provision', args: { node: 'n9' } });
      holders = (await locks.find()).map((l) => l.holder);
      expect(holders).toEqual([op.id]);
      await op.end('done');
    });
    expect((await ops.findOneByOrFail({ id: holders[0] })).state).toBe('done');
    expect(await locks.count()).toBe(0);
  });

  it('a named lease is held by one instance at a time, renewed by it, and taken by another once it lapses', async () => {
    const leaseA = a.app.get(Leases);
    const leaseB = b.app.get(Leases);
    expect(await leaseA.hold('targets', 60_000)).toBe(true);
    expect(await leaseB.hold('targets', 60_000)).toBe(false);
    expect(await leaseA.hold('targets', 60_000)).toBe(true);
    const clock = b.app.get(BmiInstance);
    clock.now = () => Date.now() + 61_000;
    expect(await leaseB.hold('targets', 60_000)).toBe(true);
    clock.now = Date.now;
    expect(await leaseA.hold('targets', 60_000)).toBe(false);
    await leaseB.release('targets');
    expect(await leaseA.hold('targets', 60_000)).toBe(true);
  });

  it('the scheduled target reconciler runs on one instance at a time, and on another once it stops', async () => {
    // a started first and took the lease at its start; b skipped its pass at start
    expect(await b.app.get(TargetReconciler).scheduledPass()).toBeNull();
    expect(await a.app.get(TargetReconciler).scheduledPass()).toMatchObject({ wanted: 0, recreated: [] });
    await a.close();
    a = undefined as unknown as TestApp;
    expect(await b.app.get(TargetReconciler).scheduledPass()).toMatchObject({ wanted: 0, recreated: [] });
  });

  it('an operation this instance still runs is not recovered by it, even once another marked it interrupted', async () => {
    const journalA = a.app.get(TypeOrmOperationJournal);
    let undone = 0;
    a.app.get(SagaActions).register({ 'test.undo': async () => void undone++ });
    const op = await journalA.begin({ kind: 'provision', args: { node: 'n7' } });
    await op.started('write boot files', { undo: { type: 'test.undo', args: {} } });
    // a stall: b sees the lease lapsed and marks it; b cannot take it over (a keeps renewing it), nor can a
    const journalB = b.app.get(TypeOrmOperationJournal);
    journalB.now = () => Date.now() + 120_000;
    expect(await journalB.markInterrupted()).toBe(1);
    journalB.now = Date.now;
    await journalA.maintain();
    await journalB.maintain();
    expect(undone).toBe(0);
    await op.end('done');
    const ops = a.app.get<Repository<OperationEntity>>(getRepositoryToken(OperationEntity));
    expect((await ops.findOneByOrFail({ id: op.id })).state).toBe('done');
  });

  it('a lock held too long is refused as busy (409) after two lease periods', async () => {
    const short = await startTestApp({ database: db.location, extraIni: [...DB_LOCKS, 'lease_seconds = 3'] });
    try {
      const key = lockKey.image(1, 'held');
      const holder = holdLocks(a, [exclusive(key)]);
      await holder.taken;
      const started = Date.now();
      await expect(short.app.get(OperationLocks).run([exclusive(key)], async () => 'never')).rejects.toMatchObject({
        status: 409,
        code: 'BUSY',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(6000);
      holder.release();
      await holder.done;
    } finally {
      await short.close();
    }
  }, 30000);
});
