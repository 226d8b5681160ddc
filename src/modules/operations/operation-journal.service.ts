import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { DbWriteLock } from '../../common/concurrency/locks';
import {
  JournaledOperation,
  OperationEnd,
  OperationIntent,
  OperationJournal,
  StepState,
} from '../../common/orchestration/journal';
import { JournalStep, OperationEntity, OperationState } from './operation.entity';

/** How long a running operation stays this instance's without a renewal. */
export const LEASE_MS = 60_000;

export interface OperationRow {
  id: string;
  kind: string;
  project: string | null;
  actor: string | null;
  state: OperationState;
  args: Record<string, unknown>;
  steps: JournalStep[];
  error: string | null;
  started: string;
  updated: string;
}

/**
 * The operation journal on BMI's database. Each instance has an id of its own and holds a lease on the
 * operations it runs, renewed every LEASE_MS / 3 while any is running; at start and after each renewal period,
 * operations whose lease lapsed (their instance died) are marked `interrupted` and logged. Several instances
 * on one database each keep to their own operations.
 */
@Injectable()
export class TypeOrmOperationJournal extends OperationJournal implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Operations');
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private running = 0;
  private maintaining = false;
  /** ends that could not be written yet (their operations count as running until they are) */
  private readonly unwrittenEnds = new Map<string, { state: OperationEnd; error: string | null }>();
  /** the clock (tests move it) */
  now: () => number = Date.now;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(OperationEntity) private readonly repo: Repository<OperationEntity>,
    private readonly dbLock: DbWriteLock,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.markInterrupted();
    this.timer = setInterval(() => void this.maintain(), LEASE_MS / 3);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async begin(intent: OperationIntent): Promise<JournaledOperation> {
    const now = this.now();
    const row: OperationEntity = {
      id: randomUUID(),
      kind: intent.kind,
      project: intent.project ?? null,
      // a Basic-auth user name has no length limit; the column (and PostgreSQL) has
      actor: intent.actor?.slice(0, 64) ?? null,
      args: JSON.stringify(intent.args),
      state: 'running',
      steps: '[]',
      error: null,
      owner: this.instance,
      leaseUntil: now + LEASE_MS,
      startedAt: now,
      updatedAt: now,
    };
    await this.dbLock.run(() => this.repo.insert(row));
    this.running++;
    const steps: JournalStep[] = [];
    let ended = false;
    return {
      id: row.id,
      step: async (name: string, state: StepState) => {
        steps.push({ name, state, at: this.now() });
        await this.write(row.id, { steps: JSON.stringify(steps) });
      },
      end: async (state: OperationEnd, error?: string) => {
        if (ended) return;
        ended = true;
        try {
          await this.write(row.id, { state, error: error ?? null });
        } catch (e) {
          // kept under this instance's lease and written again at the next renewal
          this.unwrittenEnds.set(row.id, { state, error: error ?? null });
          throw e;
        }
        this.running--;
      },
    };
  }

  /** The newest operations first, optionally in one state. */
  async list(filter: { state?: OperationState; limit?: number } = {}): Promise<OperationRow[]> {
    const rows = await this.repo.find({
      where: filter.state ? { state: filter.state } : {},
      order: { startedAt: 'DESC' },
      take: filter.limit ?? 100,
    });
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      project: r.project,
      actor: r.actor,
      state: r.state,
      args: JSON.parse(r.args) as Record<string, unknown>,
      steps: JSON.parse(r.steps) as JournalStep[],
      error: r.error,
      started: new Date(r.startedAt).toISOString(),
      updated: new Date(r.updatedAt).toISOString(),
    }));
  }

  /** Marks the running operations whose lease lapsed as interrupted; returns how many. */
  async markInterrupted(): Promise<number> {
    const lapsed = await this.repo.find({ where: { state: 'running', leaseUntil: LessThan(this.now()) } });
    let count = 0;
    for (const op of lapsed) {
      // only if still lapsed: its owner may have renewed it since it was read
      const marked = await this.dbLock.run(() =>
        this.repo.update(
          { id: op.id, state: 'running', leaseUntil: LessThan(this.now()) },
          { state: 'interrupted', updatedAt: this.now() },
        ),
      );
      if (!marked.affected) continue;
      count++;
      const done = (JSON.parse(op.steps) as JournalStep[]).filter((s) => s.state === 'done').map((s) => s.name);
      this.logger.warn(
        `operation ${op.id} (${op.kind}${op.project ? ` in ${op.project}` : ''}, ${op.args}) was interrupted ` +
          `after ${done.length ? done.map((n) => `"${n}"`).join(', ') : 'no step'}; its instance ${op.owner} stopped`,
      );
    }
    return count;
  }

  /** Renews this instance's leases, writes the ends that could not be written, marks lapsed operations. */
  async maintain(): Promise<void> {
    if (this.maintaining) return; // the previous round is still writing
    this.maintaining = true;
    try {
      for (const [id, end] of this.unwrittenEnds) {
        await this.write(id, end);
        this.unwrittenEnds.delete(id);
        this.running--;
      }
      if (this.running > 0) {
        await this.dbLock.run(() =>
          this.repo.update({ owner: this.instance, state: 'running' }, { leaseUntil: this.now() + LEASE_MS }),
        );
      }
      await this.markInterrupted();
    } catch (e) {
      this.logger.error(`the operation journal could not be maintained: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.maintaining = false;
    }
  }

  private async write(id: string, values: Partial<OperationEntity>): Promise<void> {
    const now = this.now();
    await this.dbLock.run(() => this.repo.update({ id }, { ...values, updatedAt: now, leaseUntil: now + LEASE_MS }));
  }
}
