import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { KeyedLock, LockRequest, normalize } from '../../common/concurrency/keyed-lock';
import { asLockHolder, DbWriteLock, LocksBusyError, OperationLocks } from '../../common/concurrency/locks';
import { LeaseEntity, ResourceLockEntity } from './coordination.entities';
import { OperationEntity } from './operation.entity';

/**
 * Where pids mean the same as this process's: this boot of this machine, this pid namespace (a container has
 * its own). A short hash, or '' when /proc cannot tell.
 */
export function pidSpace(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = statSync('/proc/self/ns/pid').ino;
    return createHash('sha256').update(`${boot}/${ns}`).digest('hex').slice(0, 8);
  } catch {
    return '';
  }
}

/**
 * This process among the instances that share the database: its id (`host:pid:random:pid space:start`) and its
 * lease length. Another instance may judge from the id that this process is gone (its pid no longer exists)
 * only when it runs in the same pid space; elsewhere a pid says nothing, and it waits for the lease.
 */
@Injectable()
export class BmiInstance {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}:${pidSpace()}:${processStart(process.pid) ?? ''}`;
  readonly leaseMs: number;
  /** the clock (tests move it) */
  now: () => number = Date.now;

  constructor(config: AppConfig) {
    this.leaseMs = config.db.leaseSeconds * 1000;
  }
}

/** When process `pid` started (clock ticks since boot, /proc/PID/stat field 22), or null when it is gone. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: the fields after it are counted from its closing ")"
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * True when `owner` (host:pid:random:pid space:start) names a process of this host and pid space (same boot,
 * same pid namespace) that no longer exists: no process has its pid, or the one that has it started at another
 * time (the pid was given again). Apps in one process (tests) share pid and start, and are all alive. Anywhere
 * else, or for an id without a pid space, a pid tells nothing.
 */
export function deadLocalProcess(owner: string, self: string): boolean {
  const [host, pid, , space, start] = owner.split(':');
  const [, , , mine] = self.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '') || !space || space !== mine || !start) return false;
  return processStart(Number(pid)) !== start;
}

/** Operation states whose locks stay taken whatever became of their instance. */
const UNFINISHED = ['running', 'interrupted'];

/**
 * OperationLocks in the database, shared by every instance on it (PostgreSQL), and the same on SQLite.
 *
 * A lock is a row (key, holder, mode). `run` first takes the keys in this process (KeyedLock: first come, first
 * served, no polling between the operations of one instance), then in the database in one transaction, all or
 * none: the rows of the other holders of those keys are read, and when none conflicts (shared with shared
 * only) the holder's rows are written; else the transaction writes nothing and is tried again after a short,
 * growing, jittered wait. On PostgreSQL the keys are first taken as transaction advisory locks, so that two
 * instances cannot both find a key free; on SQLite the one writer does that.
 *
 * A row is held while its lease lasts (renewed by its instance every third of `[db] lease_seconds`) or while
 * the operation whose id is the holder's is unfinished: the locks of an operation whose instance died pass to
 * the instance that recovers it, and are dropped when it has; the others lapse with the lease. Because `run`
 * takes all its keys at once, in the database no holder waits while holding: no deadlock across instances.
 */
@Injectable()
export class DatabaseLocks extends OperationLocks implements OnApplicationShutdown {
  private readonly logger = new Logger('Locks');
  private readonly local = new KeyedLock();
  /** holders of this instance whose rows are in the database (renewed) */
  private readonly held = new Set<string>();
  /** holders whose rows could not be deleted yet (retried at each renewal) */
  private readonly unreleased = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly postgres: boolean;
  /** false with `[db] locks = process` (or auto on SQLite): the in-process locks alone */
  private readonly inDatabase: boolean;

  constructor(
    @InjectRepository(ResourceLockEntity) private readonly rows: Repository<ResourceLockEntity>,
    private readonly dataSource: DataSource,
    private readonly dbLock: DbWriteLock,
    private readonly instance: BmiInstance,
    config: AppConfig,
  ) {
    super();
    this.postgres = dataSource.options.type === 'postgres';
    this.inDatabase = config.db.locks === 'database' || (config.db.locks === 'auto' && this.postgres);
    // rows to renew exist only in the database mode
    if (this.inDatabase) {
      this.timer = setInterval(() => void this.renew(), instance.leaseMs / 3);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  run<T>(requests: LockRequest[], fn: () => Promise<T>): Promise<T> {
    const wanted = normalize(requests);
    if (!this.inDatabase) return this.local.run(wanted, () => asLockHolder(randomUUID(), fn));
    return this.local.run(wanted, async () => {
      const holder = randomUUID();
      await this.acquire(holder, wanted);
      this.held.add(holder);
      try {
        return await asLockHolder(holder, fn);
      } finally {
        this.held.delete(holder);
        await this.release(holder);
      }
    });
  }

  /**
   * Tries until the locks are free, for at most two lease periods (time enough for another instance to take
   * a dead one's operation over and recover it); then the request is refused as busy, and the caller retries.
   */
  private async acquire(holder: string, wanted: LockRequest[]): Promise<void> {
    let wait = 2;
    const deadline = Date.now() + 2 * this.instance.leaseMs;
    for (;;) {
      if (await this.tryAcquire(holder, wanted)) return;
      if (Date.now() >= deadline) {
        const keys = wanted.map((w) => w.key).join(', ');
        this.logger.warn(`gave up waiting for ${keys} after ${2 * this.instance.leaseMs} ms`);
        throw new LocksBusyError(keys);
      }
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, 100);
    }
  }

  private tryAcquire(holder: string, wanted: LockRequest[]): Promise<boolean> {
    const keys = wanted.map((w) => w.key);
    return this.dbLock.run(() =>
      this.dataSource.transaction(async (tx) => {
        if (this.postgres) {
          for (const key of keys) await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
        }
        const now = this.instance.now();
        const others = await this.live(tx, keys, now).getMany();
        const mode = new Map(wanted.map((w) => [w.key, w.mode]));
        if (others.some((o) => o.mode === 'exclusive' || mode.get(o.key) === 'exclusive')) return false;
        // rows of these keys that hold nothing any more (lapsed, and no unfinished operation's)
        await tx
          .createQueryBuilder()
          .delete()
          .from(ResourceLockEntity)
          .where('key IN (:...keys) AND lease_until < :now', { keys, now })
          .andWhere(
            `NOT EXISTS (SELECT 1 FROM "operation" o WHERE o."id" = "resource_lock"."holder" AND o."state" IN (:...unfinished))`,
            { unfinished: UNFINISHED },
          )
          .execute();
        await tx.insert(
          ResourceLockEntity,
          wanted.map((w) => ({
            key: w.key,
            holder,
            mode: w.mode,
            instance: this.instance.id,
            leaseUntil: now + this.instance.leaseMs,
          })),
        );
        return true;
      }),
    );
  }

  /** The rows of `keys` that hold: lease not lapsed, or their operation unfinished. */
  private live(tx: EntityManager, keys: string[], now: number) {
    return tx
      .createQueryBuilder(ResourceLockEntity, 'l')
      .leftJoin(OperationEntity, 'o', 'o.id = l.holder')
      .where('l.key IN (:...keys)', { keys })
      .andWhere(
        new Brackets((w) =>
          w.where('l.leaseUntil >= :now', { now }).orWhere('o.state IN (:...unfinished)', { unfinished: UNFINISHED }),
        ),
      );
  }

  /**
   * Drops the holder's rows, unless its operation is unfinished (handed over to recovery: the recovery drops
   * them). A failed delete is retried at the next renewal; meanwhile the rows lapse with their lease.
   */
  private async release(holder: string): Promise<void> {
    try {
      await this.dbLock.run(() =>
        this.rows
          .createQueryBuilder()
          .delete()
          .where('holder = :holder', { holder })
          .andWhere(
            `NOT EXISTS (SELECT 1 FROM "operation" o WHERE o."id" = :holder AND o."state" IN (:...unfinished))`,
            { unfinished: UNFINISHED },
          )
          .execute(),
      );
      this.unreleased.delete(holder);
    } catch (e) {
      this.unreleased.add(holder);
      this.logger.error(`locks of ${holder} not released yet: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Lets go at once of the locks of instances that were processes of this host and pid space and are gone (as
   * if their lease had lapsed): those of their unfinished operations stay, held by the operations.
   */
  async sweep(): Promise<void> {
    if (!this.inDatabase) return;
    const instances = (await this.rows
      .createQueryBuilder('l')
      .select('DISTINCT l.instance', 'instance')
      .where('l.instance <> :me', { me: this.instance.id })
      .getRawMany()) as { instance: string }[];
    const gone = instances.map((r) => r.instance).filter((i) => deadLocalProcess(i, this.instance.id));
    if (gone.length) {
      await this.dbLock.run(() => this.rows.update({ instance: In(gone) }, { leaseUntil: 0 }));
    }
  }

  /** Drops the locks of an operation that recovery finished. */
  async releaseRecovered(operationId: string): Promise<void> {
    await this.dbLock.run(() => this.rows.delete({ holder: operationId }));
  }

  private async renew(): Promise<void> {
    for (const holder of [...this.unreleased]) await this.release(holder);
    if (this.held.size === 0) return;
    try {
      await this.dbLock.run(() =>
        this.rows.update(
          { holder: In([...this.held]), instance: this.instance.id },
          { leaseUntil: this.instance.now() + this.instance.leaseMs },
        ),
      );
    } catch (e) {
      this.logger.error(`the lock leases could not be renewed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * Named leases in the database: a job that one instance at a time should do (the periodic target reconciler)
 * is done by the instance that holds its lease. `hold` takes the lease when it is free or lapsed, renews it
 * when this instance holds it, and says whether this instance holds it now.
 */
@Injectable()
export class Leases {
  constructor(
    @InjectRepository(LeaseEntity) private readonly leases: Repository<LeaseEntity>,
    private readonly dbLock: DbWriteLock,
    private readonly instance: BmiInstance,
  ) {}

  async hold(name: string, ms: number): Promise<boolean> {
    const now = this.instance.now();
    const until = now + ms;
    const me = this.instance.id;
    const taken = await this.dbLock.run(() =>
      this.leases
        .createQueryBuilder()
        .update()
        .set({ holder: me, leaseUntil: until })
        .where('name = :name', { name })
        .andWhere(new Brackets((w) => w.where('holder = :me', { me }).orWhere('lease_until < :now', { now })))
        .execute(),
    );
    if (taken.affected) return true;
    // never held yet: the first instance to write the row has it (a conflicting insert writes nothing)
    await this.dbLock.run(() =>
      this.leases.createQueryBuilder().insert().values({ name, holder: me, leaseUntil: until }).orIgnore().execute(),
    );
    return (await this.leases.findOneBy({ name }))?.holder === me;
  }

  /** Gives the lease up (at shutdown), so that another instance need not wait for it to lapse. */
  async release(name: string): Promise<void> {
    await this.dbLock.run(() => this.leases.delete({ name, holder: this.instance.id }));
  }
}
