import { Global, Injectable, Module } from '@nestjs/common';
import { KeyedLock, LockRequest } from './keyed-lock';

/**
 * Locks that keep concurrent operations on the same image, node or project from interleaving their steps
 * (two snapshots of one disk, a remove_image racing a create_disk from it, a project deleted while an image
 * is made in it). In-process: one BMI serves a database.
 */
@Injectable()
export class OperationLocks {
  private readonly lock = new KeyedLock();

  run<T>(requests: LockRequest[], fn: () => Promise<T>): Promise<T> {
    return this.lock.run(requests, fn);
  }
}

/** Lock names, one per kind of resource. */
export const lockKey = {
  project: (name: string) => `project:${name}`,
  image: (projectId: number, name: string) => `image:${projectId}/${name}`,
  rbd: (name: string) => `rbd:${name}`,
  node: (name: string) => `node:${name}`,
};

export const shared = (key: string): LockRequest => ({ key, mode: 'shared' });
export const exclusive = (key: string): LockRequest => ({ key, mode: 'exclusive' });

/**
 * Serialises writes to the database. TypeORM's SQLite driver runs every query on one shared connection, so a
 * transaction open in one request would take in, and roll back, the writes of another. Every write and every
 * transaction of the app goes through here.
 */
@Injectable()
export class DbWriteLock {
  private readonly lock = new KeyedLock();

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run([{ key: 'db', mode: 'exclusive' }], fn);
  }
}

@Global()
@Module({ providers: [OperationLocks, DbWriteLock], exports: [OperationLocks, DbWriteLock] })
export class ConcurrencyModule {}
