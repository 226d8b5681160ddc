import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Metrics } from '../../common/observability/metrics';
import { TftpService } from '../tftp/tftp.service';
import { hostname } from 'node:os';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../../config/app-config';
import { exclusive, lockKey, OperationLocks } from '../../common/concurrency/locks';
import { IscsiTarget } from '../iscsi/iscsi-target.driver';
import { TargetExistsError } from '../iscsi/iscsi.errors';
import { IscsiService } from '../iscsi/iscsi.service';
import { describeAcl, diffTargets } from '../iscsi/target-diff';
import { ImageEntity } from './image.entity';
import { ImageCatalog } from './image-catalog';
import { BmiInstance, Leases } from '../operations/coordination';

/** What one pass found and did. */
export interface ReconcileReport {
  /** targets the database says should exist */
  wanted: number;
  /** missing targets made again */
  recreated: string[];
  /** targets made before CHAP was on, made again with credentials (their nodes' boot scripts rewritten) */
  upgraded: string[];
  /** missing targets that could not be made, with why */
  failed: { target: string; error: string }[];
  /** wanted targets present with another image or ACL (left as they are) */
  mismatched: string[];
  /** targets BMI does not know (left as they are) */
  unknown: string[];
}

/**
 * Keeps the iSCSI targets in line with the database. tgtd holds its targets in memory only, so after a tgtd
 * restart (or a host reboot) every disk would be unbootable: at start, and then every `[iscsi]
 * reconcile_seconds` with the tgt driver, this re-creates the target of every image marked `exported` (every
 * disk, and the images mounted with mount_image). It never deletes: targets it does not know and targets that
 * differ from what BMI would make are logged, once per change.
 *
 * A missing target is made under the image's lock, after the row is read again, so a pass never races a
 * create_disk, delete_disk, mount or unmount of the same image. The in-memory fake's targets change only through
 * BMI, so with it only the pass at start runs.
 */
@Injectable()
export class TargetReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  static readonly INTERVAL = 'iscsi-target-reconciler';
  private readonly logger = new Logger(TargetReconciler.name);
  private running: Promise<ReconcileReport | null> | null = null;
  private stopping = false;
  /** the last reported unknown/mismatched summary, and failures, so that a steady state is logged once */
  private lastAnomalies = '';
  private readonly lastFailures = new Map<string, string>();
  /** older targets left without CHAP because an initiator is logged in (said once each) */
  private readonly inUse = new Set<string>();
  private readonly leaseName: string;
  private leaseHeld = false;

  constructor(
    private readonly catalog: ImageCatalog,
    private readonly iscsi: IscsiService,
    private readonly locks: OperationLocks,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly leases: Leases,
    private readonly instance: BmiInstance,
    private readonly metrics: Metrics,
    private readonly tftp: TftpService,
  ) {
    this.leaseName = `targets@${hostname()}:${config.iscsi.tgtControlPort}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const report = await this.scheduledPass();
    if (report) {
      this.logger.log(
        `iSCSI targets at start: ${report.wanted} wanted, ${report.recreated.length} re-created` +
          (report.failed.length ? `, ${report.failed.length} failed` : ''),
      );
    }
    const seconds = this.config.iscsi.reconcileSeconds;
    if (seconds > 0 && this.config.drivers.iscsi !== 'fake') {
      this.scheduler.addInterval(
        TargetReconciler.INTERVAL,
        setInterval(() => void this.scheduledPass(), seconds * 1000),
      );
    }
  }

  /** The scheduler clears the interval; a pass in progress finishes before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
    if (this.leaseHeld) await this.leases.release(this.leaseName).catch(() => undefined);
  }

  /**
   * The passes at start and on the timer are made by one instance at a time among those that share the
   * database and this tgtd (its control socket is this host's): the holder of the lease named after both,
   * which it renews at each pass and gives up when it stops. A pass asked for (reconcile) always runs.
   */
  async scheduledPass(): Promise<ReconcileReport | null> {
    const ms = Math.max(3 * this.config.iscsi.reconcileSeconds * 1000, this.instance.leaseMs);
    try {
      this.leaseHeld = await this.leases.hold(this.leaseName, ms);
    } catch (e) {
      this.logger.error(`cannot take the target reconciler's lease: ${(e as Error).message}`);
      return null;
    }
    return this.leaseHeld ? this.reconcile() : null;
  }

  /**
   * One pass (calls during a pass share it). Never throws: null when the targets could not be listed (tgtd
   * down), which is logged.
   */
  reconcile(): Promise<ReconcileReport | null> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private countDrift(kind: string, n: number): void {
    this.metrics.drift.set({ kind }, n);
    if (n) this.metrics.driftFound.inc({ kind }, n);
  }

  private async pass(): Promise<ReconcileReport | null> {
    try {
      const rows = await this.catalog.listExported();
      const wanted = new Map<string, { row: ImageEntity; target: IscsiTarget }>();
      const targets = await this.iscsi.targetsFor(rows.map((row) => this.catalog.cephName(row)));
      rows.forEach((row, i) => wanted.set(targets[i].name, { row, target: targets[i] }));
      const present = await this.iscsi.list();
      const diff = diffTargets(
        [...wanted.values()].map((w) => w.target),
        present,
      );
      const report: ReconcileReport = {
        wanted: wanted.size,
        recreated: [],
        upgraded: [],
        failed: [],
        mismatched: diff.mismatched.map((m) => m.wanted.name),
        unknown: diff.unknown.map((t) => t.name),
      };
      this.countDrift('missing_target', diff.missing.length);
      this.countDrift('wrong_target', diff.mismatched.length);
      this.countDrift('unknown_target', diff.unknown.length);
      for (const missing of diff.missing) {
        if (this.stopping) break;
        await this.recreate(wanted.get(missing.name)!.row, report);
      }
      // targets made before CHAP was on (no credentials yet, or given some by a pass a crash cut short): made
      // again with credentials, with their nodes' scripts, once no initiator is logged in
      if (this.config.iscsi.chap) {
        const byName = new Map(present.map((p) => [p.name, p]));
        for (const [name, w] of wanted) {
          const p = byName.get(name);
          if (this.stopping || !p || p.chap || p.image !== w.target.image) continue;
          await this.giveCredentials(w.row, p, report);
        }
      }
      const upgraded = new Set(report.upgraded);
      diff.mismatched = diff.mismatched.filter((m) => !upgraded.has(m.wanted.name));
      report.mismatched = diff.mismatched.map((m) => m.wanted.name);
      for (const name of [...this.lastFailures.keys()]) {
        if (!report.failed.some((f) => f.target === name)) this.lastFailures.delete(name);
      }
      this.reportAnomalies(diff.mismatched, diff.unknown);
      return report;
    } catch (e) {
      this.logger.error(`cannot check the iSCSI targets: ${(e as Error).message}`);
      return null;
    }
  }

  private async recreate(row: ImageEntity, report: ReconcileReport): Promise<void> {
    await this.locks.run([exclusive(lockKey.image(row.projectId, row.name))], async () => {
      const now = await this.catalog.byId(row.id);
      // deleted, unmounted, renamed or moved since the rows were read: the next pass sees it as it is now
      if (!now?.exported || now.name !== row.name || now.projectId !== row.projectId) return;
      const ceph = this.catalog.cephName(now);
      const name = this.iscsi.targetName(ceph);
      try {
        await this.iscsi.export(ceph);
        report.recreated.push(name);
        this.lastFailures.delete(name);
        this.logger.log(`re-created the iSCSI target ${name} of image ${now.name} (${ceph}, project ${now.projectId})`);
      } catch (e) {
        if (e instanceof TargetExistsError) return; // made meanwhile by someone else
        const error = (e as Error).message;
        report.failed.push({ target: name, error });
        const line = `cannot re-create the iSCSI target ${name} of image ${now.name} (${ceph}): ${error}`;
        if (this.lastFailures.get(name) === error) this.logger.debug(line);
        else this.logger.error(line);
        this.lastFailures.set(name, error);
      }
    });
  }

  /**
   * Gives a target made before CHAP was on its credentials: under the image's lock, the credentials are made,
   * the boot scripts that boot from the target are written again with them (a target without CHAP lets such a
   * script in too), then the target is made again with them. A target an initiator is logged in to (asked
   * afresh under the lock) is left until it is not: making it again would cut that node's disk off. A crash
   * half way leaves a target without CHAP, finished by the next pass (each part is idempotent).
   */
  private async giveCredentials(row: ImageEntity, seen: IscsiTarget, report: ReconcileReport): Promise<void> {
    const name = seen.name;
    await this.locks.run([exclusive(lockKey.image(row.projectId, row.name))], async () => {
      const now = await this.catalog.byId(row.id);
      if (!now?.exported || now.name !== row.name || now.projectId !== row.projectId) return;
      const ceph = this.catalog.cephName(now);
      try {
        const present = (await this.iscsi.list()).find((t) => t.name === name);
        if (!present || present.chap) return;
        if (present.sessions) {
          if (!this.inUse.has(name)) {
            this.logger.warn(
              `target ${name} has no CHAP credentials yet: it gets them once no initiator is logged in to it`,
            );
          }
          this.inUse.add(name);
          return;
        }
        this.inUse.delete(name);
        await this.iscsi.giveCredentials(ceph);
        const scripts = await this.tftp.rewriteScripts(name, await this.iscsi.accessFor(ceph));
        await this.iscsi.unexport(ceph);
        await this.iscsi.export(ceph);
        report.upgraded.push(name);
        this.lastFailures.delete(name);
        this.logger.log(`gave the iSCSI target ${name} CHAP credentials; ${scripts} boot script(s) rewritten`);
      } catch (e) {
        const error = (e as Error).message;
        report.failed.push({ target: name, error });
        this.logger.error(`cannot give the iSCSI target ${name} CHAP credentials: ${error}`);
      }
    });
  }

  private reportAnomalies(
    mismatched: { wanted: IscsiTarget; present: IscsiTarget; why: string }[],
    unknown: IscsiTarget[],
  ): void {
    const lines = [
      ...mismatched.map(
        (m) =>
          `target ${m.wanted.name} ${m.why}; BMI would export "${m.wanted.image}" to ` +
          `${describeAcl(m.wanted.initiators)} (left as it is)`,
      ),
      ...(unknown.length
        ? [`${unknown.length} target(s) BMI does not know (left as they are): ${unknown.map((t) => t.name).join(', ')}`]
        : []),
    ];
    const summary = lines.join('\n');
    if (summary === this.lastAnomalies) return;
    this.lastAnomalies = summary;
    for (const line of lines) this.logger.warn(line);
  }
}
