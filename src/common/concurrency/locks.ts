import { AsyncLocalStorage } from 'node:async_hooks';
import { Global, Injectable, Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ConflictError } from '../errors/domain-error';
import { dbLocation } from '../../database/db-location';
import { KeyedLock, LockRequest } from './keyed-lock';

export type { LockRequest } from './keyed-lock';

/**
 * Locks that keep concurrent operations on the same image, node or project from interleaving their steps
 * (two snapshots of one disk, a remove_image racing a create_disk from it, a project deleted while an image
 * is made in it), across every instance that shares the database. `run` takes every lock at once (shared or
 * exclusive, as KeyedLock) and runs `fn` under a holder id of its own (lockHolder()), which the operation
 * journal gives to the operation `fn` starts: the operation's locks then stay taken until it ends, even when
 * its instance dies before it does and another instance recovers it.
 */
export abstract class OperationLocks {
  abstract run<T>(requests: LockRequest[], fn: () => Promise<T>): Promise<T>;
}

/**
 * A check a caller asks an operation to make under its locks, before it acts (that the resource is still at the
 * version the caller saw, If-Match): it throws to refuse.
 */
export type LockedCheck = () => Promise<void>;

/** Locks within this process only, for unit tests of one service. */
@Injectable()
export class InProcessLocks extends OperationLocks {
  private readonly lock = new KeyedLock();

  run<T>(requests: LockRequest[], fn: () => Promise<T>): Promise<T> {
    return this.lock.run(requests, fn);
  }
}

/** 409: what the request needs stayed held by another operation (one being recovered, say) for too long. */
export class LocksBusyError extends ConflictError {
  override readonly code = 'BUSY';
  constructor(keys: string) {
    super(`Busy: ${keys} stayed in use by another operation; try again later`);
  }
}

interface Holder {
  id: string;
  claimed: boolean;
}
const holders = new AsyncLocalStorage<Holder>();

/** Runs `fn` as the lock holder `id`. */
export function asLockHolder<T>(id: string, fn: () => Promise<T>): Promise<T> {
  return holders.run({ id, claimed: false }, fn);
}

/**
 * The id of the locks held around the running code, the first time it is asked for (the first operation
 * started under the locks owns them); undefined after that, or outside any lock.
 */
export function claimLockHolder(): string | undefined {
  const holder = holders.getStore();
  if (!holder || holder.claimed) return undefined;
  holder.claimed = true;
  return holder.id;
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
 * Serialises writes to an SQLite database. TypeORM's SQLite driver runs every query on one shared connection,
 * so a transaction open in one request would take in, and roll back, the writes of another. Every write and
 * every transaction of the app goes through here. On PostgreSQL each transaction has a connection of its own
 * from the pool, and nothing is serialised.
 */
@Injectable()
export class DbWriteLock {
  private readonly lock = new KeyedLock();

  constructor(readonly serialised = true) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.serialised ? this.lock.run([{ key: 'db', mode: 'exclusive' }], fn) : fn();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: DbWriteLock,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new DbWriteLock(dbLocation(config.db.path).engine === 'sqlite'),
    },
  ],
  exports: [DbWriteLock],
})
export class ConcurrencyModule {}
