import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, In, LessThan, Repository } from 'typeorm';
import { claimLockHolder, DbWriteLock } from '../../common/concurrency/locks';
import { Fencing, SagaActions } from '../../common/orchestration/actions';
import {
  announceOperation,
  JournaledOperation,
  OperationEnd,
  OperationIntent,
  OperationJournal,
  StepRecord,
  withinOperation,
} from '../../common/orchestration/journal';
import { Metrics } from '../../common/observability/metrics';
import { noteOperation } from '../../common/observability/request-context';
import { BmiInstance, DatabaseLocks, deadLocalProcess } from './coordination';
import { OperationEntity, OperationState } from './operation.entity';

/** Progress of a step is written at most this often (ms), and once more when it reaches 100%. */
const PROGRESS_MS = 1000;

/** How long a running operation stays this instance's without a renewal, by default (`[db] lease_seconds`). */
export const LEASE_MS = 60_000;

/** How far the step that reports progress got, how fast (units a second), and the time it should still take. */
export interface Progress {
  step: string;
  done: number;
  total: number;
  rate: number | null;
  eta_seconds: number | null;
}

type StoredProgress = Pick<Progress, 'step' | 'done' | 'total'> & { rate?: number | null };

function progressOf(p: StoredProgress, state: OperationState): Progress {
  const rate = p.rate ?? null;
  const eta = state === 'running' && rate && rate > 0 ? Math.ceil((p.total - p.done) / rate) : null;
  return { step: p.step, done: p.done, total: p.total, rate, eta_seconds: eta };
}

export interface OperationRow {
  id: string;
  kind: string;
  project: string | null;
  actor: string | null;
  state: OperationState;
  args: Record<string, unknown>;
  steps: StepRecord[];
  error: string | null;
  /** how far the step that reports progress got, while the operation runs (and as it last was) */
  progress: Progress | null;
  started: string;
  updated: string;
}

/**
 * The operation journal on BMI's database. Each instance has an id of its own (host, pid, random) and holds a
 * lease on the operations it runs, renewed every third of the lease. Operations whose lease lapsed, or whose
 * instance was a process of this host that is gone, are marked `interrupted`, at start and after each renewal
 * period, by whichever instance sees it first, and then recovered: rolled back by running the undo of every
 * step that started, newest first, or, when an irreversible step had started, rolled forward by completing it.
 * An instance recovers an operation only after taking it over (owner and lease set in one conditional write),
 * so that two instances never recover the same one; it keeps it under its lease while it works on it, and a
 * recovery that fails (Ceph down) is tried again at the next period. The operation keeps its locks (its id is
 * their holder's) until it is recovered.
 */
@Injectable()
export class TypeOrmOperationJournal extends OperationJournal implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Operations');
  readonly instance: string;
  private readonly leaseMs: number;
  /** the operations this instance is running now */
  private readonly live = new Set<string>();
  private maintaining = false;
  /** ends that could not be written yet (their operations count as running until they are) */
  private readonly unwrittenEnds = new Map<string, { state: OperationEnd; error: string | null; steps: string }>();
  /** the clock (tests move it) */
  now: () => number = Date.now;
  private timer?: NodeJS.Timeout;
  private recovering: Promise<number> | null = null;
  /** storage sessions of dead instances fenced already */
  private readonly fenced = new Set<string>();
  /** operations whose recovery failed, with the error, so that a steady failure is logged once */
  private readonly recoveryFailures = new Map<string, string>();

  constructor(
    @InjectRepository(OperationEntity) private readonly repo: Repository<OperationEntity>,
    private readonly dataSource: DataSource,
    private readonly dbLock: DbWriteLock,
    private readonly actions: SagaActions,
    private readonly fencing: Fencing,
    private readonly locks: DatabaseLocks,
    self: BmiInstance,
    private readonly metrics: Metrics,
  ) {
    super();
    this.instance = self.id;
    this.leaseMs = self.leaseMs;
  }

  /**
   * Recovery runs when the module starts: after every provider (and so every action handler, which their
   * constructors register) exists, before the application bootstraps (the iSCSI reconciler) and listens.
   */
  async onModuleInit(): Promise<void> {
    // renewals go on during a long recovery at start, so that no other instance takes its operations over
    this.timer = setInterval(() => void this.maintain(), this.leaseMs / 3);
    this.timer.unref();
    await this.markInterrupted();
    await this.recoverInterrupted();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async begin(intent: OperationIntent): Promise<JournaledOperation> {
    const now = this.now();
    const row: OperationEntity = {
      // the id of the locks it runs under, if it is the first operation under them: they are then its own
      id: claimLockHolder() ?? randomUUID(),
      kind: intent.kind,
      project: intent.project ?? null,
      // a Basic-auth user name has no length limit; the column (and PostgreSQL) has
      actor: intent.actor?.slice(0, 64) ?? null,
      args: JSON.stringify(intent.args),
      state: 'running',
      steps: '[]',
      error: null,
      owner: this.instance,
      client: this.fencing.identity,
      leaseUntil: now + this.leaseMs,
      startedAt: now,
      updatedAt: now,
    };
    await this.dbLock.run(() => this.repo.insert(row));
    this.live.add(row.id);
    announceOperation(row.id);
    noteOperation(row.id);
    const measure = this.measure(row.kind, now);
    const steps: StepRecord[] = [];
    const stepsJson = () => ({ steps: JSON.stringify(steps) });
    let ended = false;
    // progress is written in order, at most once a PROGRESS_MS (and at 100%), and before the end
    let progressWritten = 0;
    let progressWrite: Promise<void> = Promise.resolve();
    /** where the step that reports progress first reported, for its rate */
    let progressStart: { step: string; at: number; done: number } | null = null;
    return {
      id: row.id,
      started: async (name, how) => {
        steps.push({ name, state: 'started', at: this.now(), ...how });
        await this.write(row.id, stepsJson());
        return steps.length - 1;
      },
      update: async (index, state) => {
        const step = steps[index];
        if (step.ms === undefined && step.state === 'started') {
          step.ms = this.now() - step.at;
          measure.step(index, step.ms, state);
        }
        step.state = state;
        // A step's `done` rides on the next write (the next step's start, or the end): until then it reads
        // `started`, which recovery treats alike (undo and redo work whatever part of the step ran).
        if (state !== 'done') await this.write(row.id, stepsJson());
      },
      atomically: async (name, fn, undo) => {
        const at = this.now();
        return this.dbLock.run(() =>
          this.dataSource.transaction(async (tx) => {
            const result = await fn(tx);
            const done: StepRecord = { name, state: 'done', at, ms: this.now() - at, undo: undo(result) };
            await tx.update(OperationEntity, { id: row.id }, this.stamp(JSON.stringify([...steps, done])));
            steps.push(done);
            measure.step(steps.length - 1, done.ms!, 'done');
            return { result, index: steps.length - 1 };
          }),
        );
      },
      progress: (done: number, total: number) => {
        const now = this.now();
        if (ended || (done < total && now - progressWritten < PROGRESS_MS)) return;
        progressWritten = now;
        const step = steps.at(-1)?.name ?? '';
        if (progressStart?.step !== step) progressStart = { step, at: now, done };
        const seconds = (now - progressStart.at) / 1000;
        // units a second over the step so far (none before a second has passed)
        const rate = seconds >= 1 ? Math.round((done - progressStart.done) / seconds) : null;
        const progress = JSON.stringify({ step, done, total, rate });
        progressWrite = progressWrite
          .then(() => this.write(row.id, { progress }))
          .catch((e: unknown) => this.logger.debug(`operation ${row.id}: progress not written: ${String(e)}`));
      },
      handOver: async (error: string) => {
        if (ended) return;
        ended = true;
        measure.end('interrupted');
        await progressWrite;
        this.live.delete(row.id);
        await this.write(row.id, { state: 'interrupted', error, ...stepsJson() });
      },
      end: async (state: OperationEnd, error?: string) => {
        if (ended) return;
        ended = true;
        measure.end(state);
        await progressWrite;
        const last = { state, error: error ?? null, ...stepsJson() };
        try {
          await this.write(row.id, last);
        } catch (e) {
          // kept under this instance's lease and written again at the next renewal
          this.unwrittenEnds.set(row.id, last);
          throw e;
        }
        this.live.delete(row.id);
      },
    };
  }

  /**
   * Waits until this instance runs no operation, or `ms` passed; resolves to how many still run. What still
   * runs when the process ends stays under this instance's lease, and is recovered like any interrupted
   * operation: at this host's next start (the process is gone), or by another instance once the lease lapses.
   */
  async drain(ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.live.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.live.size;
  }

  /** The metrics of one operation this instance runs: in flight from now until it ends, and its steps' times. */
  private measure(kind: string, startedAt: number) {
    const m = this.metrics;
    m.operationsInFlight.inc({ kind });
    return {
      // labelled by its number in the operation: step names hold image and node names, which are unbounded
      step: (index: number, ms: number, state: string) =>
        m.stepDuration.observe(
          { kind, step: String(index + 1), outcome: state === 'done' ? 'ok' : 'error' },
          ms / 1000,
        ),
      end: (state: OperationEnd | 'interrupted') => {
        m.operationsInFlight.dec({ kind });
        m.operationDuration.observe({ kind, outcome: state }, (this.now() - startedAt) / 1000);
        if (state !== 'done') m.operationsFailed.inc({ kind, state });
      },
    };
  }

  /**
   * A page of operations, newest first, optionally of one project and in one state; `after` is the last of
   * the previous page (its start time and id), so that pages neither repeat nor skip while operations start.
   */
  async page(filter: {
    project?: string;
    state?: OperationState;
    limit: number;
    after?: { startedAt: number; id: string };
  }): Promise<{ rows: OperationRow[]; last: { startedAt: number; id: string } | null }> {
    const q = this.repo.createQueryBuilder('o');
    if (filter.project !== undefined) q.andWhere('o.project = :project', { project: filter.project });
    if (filter.state !== undefined) q.andWhere('o.state = :state', { state: filter.state });
    if (filter.after) {
      const { startedAt, id } = filter.after;
      q.andWhere(
        new Brackets((b) =>
          b.where('o.startedAt < :startedAt', { startedAt }).orWhere('(o.startedAt = :startedAt AND o.id < :id)', {
            startedAt,
            id,
          }),
        ),
      );
    }
    const rows = await q
      .orderBy('o.startedAt', 'DESC')
      .addOrderBy('o.id', 'DESC')
      .take(filter.limit + 1)
      .getMany();
    const page = rows.slice(0, filter.limit);
    const tail = page[page.length - 1];
    return {
      rows: page.map(toRow),
      last: rows.length > filter.limit && tail ? { startedAt: tail.startedAt, id: tail.id } : null,
    };
  }

  /** The newest operations first, optionally in one state. */
  async list(filter: { state?: OperationState; limit?: number } = {}): Promise<OperationRow[]> {
    const rows = await this.repo.find({
      where: filter.state ? { state: filter.state } : {},
      order: { startedAt: 'DESC' },
      take: filter.limit ?? 100,
    });
    return rows.map(toRow);
  }

  /**
   * Marks as interrupted the running operations whose lease lapsed, and those of a process of this host that
   * is gone (a restart after a kill need not wait for the lease); returns how many.
   */
  async markInterrupted(): Promise<number> {
    await this.locks.sweep();
    const running = await this.repo.find({ where: { state: 'running' } });
    let count = 0;
    for (const op of running) {
      if (op.owner === this.instance) continue;
      const dead = deadLocalProcess(op.owner, this.instance);
      if (!dead && op.leaseUntil >= this.now()) continue;
      // only if still lapsed (or dead): its owner may have renewed it since it was read
      const marked = await this.dbLock.run(() =>
        this.repo.update(
          dead
            ? { id: op.id, state: 'running', owner: op.owner }
            : { id: op.id, state: 'running', leaseUntil: LessThan(this.now()) },
          // lease 0: any instance may take it over to recover it
          { state: 'interrupted', leaseUntil: 0, updatedAt: this.now() },
        ),
      );
      if (!marked.affected) continue;
      count++;
      const done = (JSON.parse(op.steps) as StepRecord[]).filter((s) => s.state !== 'failed').map((s) => s.name);
      this.logger.warn(
        `operation ${op.id} (${op.kind}${op.project ? ` in ${op.project}` : ''}, ${op.args}) was interrupted ` +
          `after ${done.length ? done.map((n) => `"${n}"`).join(', ') : 'no step'}; its instance ${op.owner} stopped`,
      );
    }
    return count;
  }

  /**
   * Rolls every interrupted operation back or forward, oldest first; returns how many were recovered. The
   * storage sessions of their instances are fenced first (once each), so that a dead instance's open images
   * do not hold the undo up until the storage times them out.
   */
  recoverInterrupted(): Promise<number> {
    // one recovery at a time in this instance (the periodic one, a reconcile --fix): never the same undo twice
    this.recovering ??= this.recoverAll().finally(() => (this.recovering = null));
    return this.recovering;
  }

  private async recoverAll(): Promise<number> {
    const interrupted = await this.repo.find({ where: { state: 'interrupted' }, order: { startedAt: 'ASC' } });
    let count = 0;
    for (const seen of interrupted) {
      // one this instance still runs and owns (its lease lapsed during a stall, and another instance marked it)
      // is left to its run, which ends it
      if ((this.live.has(seen.id) && seen.owner === this.instance) || !(await this.takeOver(seen))) continue;
      // as it is now: another instance may have recovered part of it before it became this one's
      const op = await this.repo.findOneBy({ id: seen.id, state: 'interrupted' });
      if (!op) continue;
      await this.fence(op.client);
      if (await this.recover({ ...op, owner: seen.owner })) count++;
    }
    return count;
  }

  /** Fences a dead instance's storage session once (only once one of its operations is this instance's). */
  private async fence(client: string | null): Promise<void> {
    if (client === null || client === this.fencing.identity || this.fenced.has(client)) return;
    try {
      if (await this.fencing.fence(client)) this.fenced.add(client);
    } catch (e) {
      this.logger.error(`could not fence ${client}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Makes an interrupted operation this instance's to recover: when it is not already, only if its lease
   * lapsed (its recoverer died, or it was just marked). False when another instance has it.
   */
  private async takeOver(op: OperationEntity): Promise<boolean> {
    const now = this.now();
    const result = await this.dbLock.run(() =>
      this.repo
        .createQueryBuilder()
        .update()
        .set({ owner: this.instance, leaseUntil: now + this.leaseMs })
        .where('id = :id AND state = :state', { id: op.id, state: 'interrupted' })
        .andWhere(
          new Brackets((w) => w.where('owner = :me', { me: this.instance }).orWhere('lease_until < :now', { now })),
        )
        .execute(),
    );
    return Boolean(result.affected);
  }

  /**
   * Recovers one interrupted operation. Forward when an irreversible step started (and did not fail): the
   * started irreversible steps are completed, as the caller asked. Back otherwise: every step that started or
   * completed is undone, newest first (the undo of a step works whatever part of it ran; a step that failed
   * cleaned up after itself). The steps are written as they are recovered, so a recovery cut short resumes.
   */
  private async recover(op: OperationEntity): Promise<boolean> {
    const steps = JSON.parse(op.steps) as StepRecord[];
    const forward = steps.some((s) => s.redo && s.state !== 'failed');
    const save = (values: Partial<OperationEntity>) =>
      this.dbLock.run(() =>
        this.repo.update(
          { id: op.id, state: 'interrupted' },
          { ...values, steps: JSON.stringify(steps), updatedAt: this.now() },
        ),
      );
    try {
      await withinOperation({ id: op.id }, async () => {
        if (forward) {
          for (const s of steps.filter((s) => s.redo && s.state === 'started')) {
            await this.actions.run(s.redo!);
            s.state = 'redone';
            await save({});
          }
        } else {
          for (const s of [...steps].reverse()) {
            if (!s.undo || !['started', 'done', 'undo_failed'].includes(s.state)) continue;
            await this.actions.run(s.undo);
            s.state = 'undone';
            await save({});
          }
        }
      });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const line = `operation ${op.id} (${op.kind}) could not be rolled ${forward ? 'forward' : 'back'} yet: ${error}`;
      if (this.recoveryFailures.get(op.id) === error) this.logger.debug(line);
      else this.logger.error(line);
      this.recoveryFailures.set(op.id, error);
      return false;
    }
    this.recoveryFailures.delete(op.id);
    const state: OperationState = forward ? 'rolled_forward' : 'rolled_back';
    await save({ state, error: `interrupted (instance ${op.owner} stopped); ${state.replace('_', ' ')} at recovery` });
    await this.locks.releaseRecovered(op.id);
    this.logger.log(
      `operation ${op.id} (${op.kind}${op.project ? ` in ${op.project}` : ''}) ${state.replace('_', ' ')}`,
    );
    return true;
  }

  /**
   * Renews this instance's leases and writes the ends that could not be written; then marks lapsed operations
   * and recovers them. A long recovery does not hold up the next renewal: the renewal is its own round.
   */
  async maintain(): Promise<void> {
    if (!this.maintaining) {
      this.maintaining = true;
      try {
        // the operations it runs and those it took over to recover (first: an end that cannot be written
        // yet must not cost the others their lease)
        await this.dbLock.run(() =>
          this.repo.update(
            { owner: this.instance, state: In(['running', 'interrupted']) },
            { leaseUntil: this.now() + this.leaseMs },
          ),
        );
        for (const [id, end] of this.unwrittenEnds) {
          await this.write(id, end);
          this.unwrittenEnds.delete(id);
          this.live.delete(id);
        }
      } catch (e) {
        this.logger.error(`the operation leases could not be renewed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.maintaining = false;
      }
    }
    if (this.recovering) return; // the previous round is still recovering
    try {
      await this.markInterrupted();
      await this.recoverInterrupted();
    } catch (e) {
      this.logger.error(`interrupted operations could not be recovered: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** One operation by id, or null. */
  async get(id: string): Promise<OperationRow | null> {
    const row = await this.repo.findOneBy({ id });
    return row ? toRow(row) : null;
  }

  private async write(id: string, values: Partial<OperationEntity>): Promise<void> {
    await this.dbLock.run(() => this.repo.update({ id }, { ...values, ...this.stamp() }));
  }

  /** A write's times: each write of an operation renews its lease. With `steps`, the steps too. */
  private stamp(steps?: string): Partial<OperationEntity> {
    const now = this.now();
    return { updatedAt: now, leaseUntil: now + this.leaseMs, ...(steps === undefined ? {} : { steps }) };
  }
}

/** The CHAP secret of a boot script kept in an undo's arguments (the content to put back). */
const SCRIPT_SECRET = /(\bset password )\S+/g;

/**
 * A step as the API shows it: a boot script an action would put back keeps its CHAP secret in the database
 * (recovery needs it) but not in the answer.
 */
function shownStep(step: StepRecord): StepRecord {
  const hide = (a: StepRecord['undo']) =>
    a && {
      ...a,
      args: Object.fromEntries(
        Object.entries(a.args).map(([k, v]) => [k, typeof v === 'string' ? v.replace(SCRIPT_SECRET, '$1***') : v]),
      ),
    };
  return { ...step, ...(step.undo ? { undo: hide(step.undo) } : {}), ...(step.redo ? { redo: hide(step.redo) } : {}) };
}

function toRow(r: OperationEntity): OperationRow {
  return {
    id: r.id,
    kind: r.kind,
    project: r.project,
    actor: r.actor,
    state: r.state,
    args: JSON.parse(r.args) as Record<string, unknown>,
    steps: (JSON.parse(r.steps) as StepRecord[]).map(shownStep),
    error: r.error,
    progress: r.progress ? progressOf(JSON.parse(r.progress) as StoredProgress, r.state) : null,
    started: new Date(r.startedAt).toISOString(),
    updated: new Date(r.updatedAt).toISOString(),
  };
}
