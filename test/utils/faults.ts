import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { BlockStorage } from '../../src/modules/images/storage/block-storage';
import { OperationEntity } from '../../src/modules/operations/operation.entity';
import { LEASE_MS, TypeOrmOperationJournal } from '../../src/modules/operations/operation-journal.service';
import { TestApp } from './test-app';

/** Makes `method` of `target` fail once for the calls `when` matches; other calls go through. */
export function failOn<T extends object, K extends keyof T & string>(
  target: T,
  method: K,
  when: (...args: never[]) => boolean = () => true,
  error: unknown = new Error(`${method} failed`),
): unknown {
  const original = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
  let fired = false;
  jest.spyOn(target, method as never).mockImplementation(((...args: never[]) => {
    if (!fired && when(...args)) {
      fired = true;
      return Promise.reject(error);
    }
    return original(...args);
  }) as never);
  return error;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { status: number }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { status: number };
  }
  throw new Error('expected the call to fail');
}

/** Every image of the pool with its parent and its snapshots (protection, children). */
export async function poolState(storage: BlockStorage): Promise<Record<string, unknown>> {
  const pool: Record<string, unknown> = {};
  for (const image of await storage.listImages()) {
    const snaps = await storage.listSnapshots(image);
    pool[image] = {
      parent: await storage.parentOf(image),
      snaps: await Promise.all(snaps.map(async (s) => ({ ...s, children: await storage.children(image, s.name) }))),
    };
  }
  return pool;
}

/** DB rows, RBD pool and iSCSI targets: what a failed call must leave as it was. */
export async function appState(t: TestApp, rows: () => Promise<unknown[]>) {
  return { rows: await rows(), pool: await poolState(t.storage), targets: await t.iscsi.listTargets() };
}

/**
 * As if the instance died: every running operation becomes one of a dead instance (another host) whose lease
 * lapsed, and is marked interrupted; with `recover`, recovery runs as at the next start.
 */
export async function dieAndRecover(t: TestApp, recover = true): Promise<void> {
  const rows = t.app.get<Repository<OperationEntity>>(getRepositoryToken(OperationEntity));
  await rows.update({ state: 'running' }, { owner: 'crashed-host:1:gone' });
  const journal = t.app.get(TypeOrmOperationJournal);
  const later = Date.now() + LEASE_MS + 1000;
  journal.now = () => later;
  try {
    await journal.markInterrupted();
    if (recover) await journal.recoverInterrupted();
  } finally {
    journal.now = Date.now;
  }
}
