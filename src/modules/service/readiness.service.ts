import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { HilClient } from '../hil/hil.client';
import { BlockStorage } from '../images/storage/block-storage';
import { IscsiService } from '../iscsi/iscsi.service';
import { GracefulShutdown } from './graceful-shutdown';

/** How long one dependency may take to answer a readiness check. */
const PROBE_MS = 2000;
/** How long a readiness answer is reused: probes every second at most, however often /readyz is asked. */
const CACHE_MS = 1000;
/** A name no RBD image of BMI's has (it contains no `img`): asking for it is a cheap round trip to Ceph. */
const PROBE_IMAGE = 'bmi-readiness-probe';

export interface CheckResult {
  ok: boolean;
  /** how long the check took, in ms */
  ms: number;
  /** why it failed */
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Whether this instance can serve: its database, Ceph, tgtd and the network isolator (HIL, or the standalone
 * store, which is the database) each answer within PROBE_MS. The answer is computed at most once a
 * CACHE_MS, and callers that ask meanwhile share it, so /readyz costs the dependencies nothing however often
 * it is polled.
 */
@Injectable()
export class ReadinessService {
  private last: { at: number; answer: Readiness } | null = null;
  private running: Promise<Readiness> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly storage: BlockStorage,
    private readonly iscsi: IscsiService,
    private readonly hil: HilClient,
    private readonly config: AppConfig,
    private readonly shutdown: GracefulShutdown,
  ) {}

  check(now = Date.now()): Promise<Readiness> {
    if (this.shutdown.stopping) return Promise.resolve({ ready: false, checks: { stopping: { ok: false, ms: 0 } } });
    if (this.last && now - this.last.at < CACHE_MS) return Promise.resolve(this.last.answer);
    this.running ??= this.probeAll()
      .then((answer) => {
        this.last = { at: Date.now(), answer };
        return answer;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async probeAll(): Promise<Readiness> {
    const probes: Record<string, () => Promise<unknown>> = {
      database: () => this.db.query('SELECT 1'),
      ceph: () => this.storage.imageExists(PROBE_IMAGE),
      iscsi: () => this.iscsi.ping(),
    };
    if (this.config.drivers.netIsolator === 'hil') probes.hil = () => this.hil.ping();
    const names = Object.keys(probes);
    const results = await Promise.all(names.map((name) => probe(probes[name])));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    return { ready: results.every((r) => r.ok), checks };
  }
}

async function probe(fn: () => Promise<unknown>): Promise<CheckResult> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_MS} ms`)), PROBE_MS);
  });
  try {
    await Promise.race([fn(), late]);
    return { ok: true, ms: Date.now() - start };
  } catch (e) {
    return { ok: false, ms: Date.now() - start, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}
