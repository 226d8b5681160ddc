import { Injectable, Logger } from '@nestjs/common';
import { Metrics } from '../../common/observability/metrics';
import { AppConfig } from '../../config/app-config';
import { exclusive, lockKey, OperationLocks } from '../../common/concurrency/locks';
import { ImageCatalog } from '../images/image-catalog';
import { ImageEntity } from '../images/image.entity';
import { BlockStorage } from '../images/storage/block-storage';
import { MARK_KEYS, StorageSteps } from '../images/storage/storage-steps';
import { IscsiService } from '../iscsi/iscsi.service';
import { TargetExistsError } from '../iscsi/iscsi.errors';
import { diffTargets } from '../iscsi/target-diff';
import { OperationRow, TypeOrmOperationJournal } from '../operations/operation-journal.service';
import { TftpService } from '../tftp/tftp.service';

/**
 * The kinds of disagreement between the database, the pool, the targets and the boot files:
 * - interrupted_operation: an operation cut short whose recovery has not succeeded yet (fix: recover it);
 * - row_without_image: a row whose RBD image is gone (reported);
 * - orphan_image: an image named like BMI's, marked with this BMI's uid, that no row names (fix: removed when
 *   nothing was cloned from it);
 * - unattributed_image: the same without this BMI's mark (reported: BMI never removes what it cannot attribute);
 * - wrong_parent: a disk that is not a clone of its source's snapshot (a blank disk), or a golden image or
 *   snapshot that is not flat (reported);
 * - missing_snapshot: a golden image or snapshot without its protected BMI snapshot, so no disk can be made
 *   from it (fix: made and protected);
 * - leftover_snapshot: the BMI snapshot on a disk, left by a create_snapshot (fix: removed when unused);
 * - missing_target: an exported image without its iSCSI target (fix: made, with its ACL);
 * - wrong_target: a target exporting another image or letting in other initiators (reported);
 * - unknown_target: a target exporting an image named like BMI's that no row wants exported (reported);
 * - stale_boot_file: a node's boot script naming a target no row wants (reported: the node would not boot).
 */
export const DRIFT_KINDS = [
  'interrupted_operation',
  'row_without_image',
  'orphan_image',
  'unattributed_image',
  'wrong_parent',
  'missing_snapshot',
  'leftover_snapshot',
  'missing_target',
  'wrong_target',
  'unknown_target',
  'stale_boot_file',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface Drift {
  kind: DriftKind;
  /** what is affected: an image (with its Ceph name), a target, a file, an operation */
  subject: string;
  detail: string;
  /** the RBD image concerned, if any */
  image?: string;
  /** what --fix does about it; absent when it is only reported */
  repair?: string;
  /** with --fix: whether the repair succeeded */
  repaired?: boolean;
  error?: string;
}

export interface ReconcileReport {
  checked: { rows: number; images: number; targets: number; bootFiles: number };
  drift: Drift[];
  fixed: boolean;
}

/**
 * Compares everything BMI keeps, in the database, the pool, tgtd and the TFTP tree, and reports each
 * disagreement by kind; with `fix`, first recovers interrupted operations, then repairs what is safe to
 * repair. It never removes an image a row names, nor one it cannot attribute to this BMI, and never touches
 * what a running operation is making. Each repair runs under the lock of the image it changes, after
 * checking again.
 */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger('Reconcile');

  constructor(
    private readonly catalog: ImageCatalog,
    private readonly storage: BlockStorage,
    private readonly steps: StorageSteps,
    private readonly iscsi: IscsiService,
    private readonly tftp: TftpService,
    private readonly journal: TypeOrmOperationJournal,
    private readonly locks: OperationLocks,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async reconcile(options: { fix?: boolean } = {}): Promise<ReconcileReport> {
    if (options.fix) await this.journal.recoverInterrupted();
    const report = await this.compare();
    for (const kind of DRIFT_KINDS) {
      const n = report.drift.filter((d) => d.kind === kind).length;
      this.metrics.drift.set({ kind }, n);
      if (n) this.metrics.driftFound.inc({ kind }, n);
    }
    if (options.fix) {
      for (const drift of report.drift) if (drift.repair) await this.repair(drift);
      report.fixed = true;
      const repaired = report.drift.filter((d) => d.repaired).length;
      if (report.drift.length) this.logger.log(`${report.drift.length} drift(s) found, ${repaired} repaired`);
    }
    return report;
  }

  private async compare(): Promise<ReconcileReport> {
    const { uid } = this.config.bmi;
    const drift: Drift[] = [];
    const interrupted = await this.journal.list({ state: 'interrupted', limit: 1000 });
    const busy = busyWith([...(await this.journal.list({ state: 'running', limit: 1000 })), ...interrupted]);
    for (const op of interrupted) {
      drift.push({
        kind: 'interrupted_operation',
        subject: `operation ${op.id}`,
        detail: `${op.kind} ${JSON.stringify(op.args)} was interrupted`,
        repair: 'roll it back or forward',
      });
    }

    const rows = await this.catalog.listAll();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ours = (image: string) => this.catalog.idOf(image) !== null;
    const images = new Set((await this.storage.listImages()).filter(ours));
    const named = new Set<string>();

    for (const row of rows) {
      const ceph = this.catalog.cephName(row);
      named.add(ceph);
      if (busy.rows.has(row.id) || busy.images.has(ceph)) continue;
      const subject = `${row.projectName}/${row.name} (${ceph})`;
      if (!images.has(ceph)) {
        drift.push({
          kind: 'row_without_image',
          subject,
          image: ceph,
          detail: 'the row names an image the pool does not have',
        });
        continue;
      }
      await this.compareImage(row, ceph, subject, byId, drift);
    }

    for (const image of [...images].sort()) {
      if (named.has(image) || busy.images.has(image)) continue;
      const marks = await this.storage.getMetadata(image).catch(() => ({}) as Record<string, string>);
      if (marks[MARK_KEYS.uid] === uid) {
        // removed only when the operation that made it did not complete (an undo that failed): an image whose
        // row an admin removed on purpose (delete_image, database only) stays
        const madeBy = marks[MARK_KEYS.operation] ? await this.journal.get(marks[MARK_KEYS.operation]) : null;
        const unfinished = madeBy !== null && madeBy.state !== 'done' && madeBy.state !== 'running';
        drift.push({
          kind: 'orphan_image',
          subject: image,
          image,
          detail:
            `made by operation ${marks[MARK_KEYS.operation] || '(none)'}` +
            `${madeBy ? ` (${madeBy.kind}, ${madeBy.state})` : ''} from ${marks[MARK_KEYS.source]}; no row names it`,
          ...(unfinished ? { repair: 'remove it, unless something was cloned from it' } : {}),
        });
      } else {
        drift.push({
          kind: 'unattributed_image',
          subject: image,
          image,
          detail: "named like BMI's images but not marked by this BMI; left alone",
        });
      }
    }

    const wantedRows = rows.filter((r) => r.exported && !busy.rows.has(r.id));
    const wanted = await this.iscsi.targetsFor(wantedRows.map((r) => this.catalog.cephName(r)));
    const present = await this.iscsi.list();
    const diff = diffTargets(wanted, present);
    for (const t of diff.missing) {
      if (busy.images.has(t.image)) continue;
      drift.push({
        kind: 'missing_target',
        subject: t.name,
        image: t.image,
        detail: `${t.image} is exported in the database but has no target`,
        repair: 'make the target, with its ACL',
      });
    }
    for (const m of diff.mismatched) {
      drift.push({
        kind: 'wrong_target',
        subject: m.wanted.name,
        image: m.wanted.image,
        detail: `the target ${m.why}`,
      });
    }
    // another tool's targets on the same tgtd are not BMI's drift: only those exporting an image named like
    // this BMI's
    for (const t of diff.unknown) {
      if (busy.images.has(t.image) || !ours(t.image)) continue;
      drift.push({
        kind: 'unknown_target',
        subject: t.name,
        image: t.image,
        detail: `exports ${t.image}; no row wants it`,
      });
    }

    const targetNames = new Set(wanted.map((t) => t.name));
    const boot = await this.tftp.bootTargets();
    for (const b of boot) {
      if (b.target !== null && !targetNames.has(b.target)) {
        drift.push({
          kind: 'stale_boot_file',
          subject: b.file,
          detail: `boots from ${b.target}, which no exported image has`,
        });
      }
    }
    // by kind, in the order of DRIFT_KINDS (the sort is stable: within a kind, as found)
    drift.sort((a, b) => DRIFT_KINDS.indexOf(a.kind) - DRIFT_KINDS.indexOf(b.kind));
    return {
      checked: { rows: rows.length, images: images.size, targets: present.length, bootFiles: boot.length },
      drift,
      fixed: false,
    };
  }

  /** Parent and snapshots of the image of one row. */
  private async compareImage(
    row: ImageEntity,
    ceph: string,
    subject: string,
    byId: Map<number, ImageEntity>,
    drift: Drift[],
  ): Promise<void> {
    const snap = this.config.bmi.snapshot;
    const kind = this.catalog.kind(row);
    const parent = await this.storage.parentOf(ceph);
    const snaps = await this.storage.listSnapshots(ceph);
    const own = snaps.find((s) => s.name === snap);
    if (kind === 'disk') {
      const source = byId.get(row.parentId!);
      const expected = source ? `${this.catalog.cephName(source)}@${snap}` : null;
      const actual = parent ? `${parent.image}@${parent.snapshot}` : null;
      if (expected !== actual) {
        drift.push({
          kind: 'wrong_parent',
          subject,
          image: ceph,
          detail:
            actual === null
              ? `a blank image: no parent (expected ${expected})`
              : `clone of ${actual}, expected ${expected}`,
        });
      }
      if (own) {
        drift.push({
          kind: 'leftover_snapshot',
          subject,
          image: ceph,
          detail: `the disk carries ${ceph}@${snap}, left by a create_snapshot`,
          repair: 'remove it, unless something was cloned from it',
        });
      }
      return;
    }
    if (parent) {
      drift.push({
        kind: 'wrong_parent',
        subject,
        image: ceph,
        detail: `not flat: a clone of ${parent.image}@${parent.snapshot}`,
      });
    }
    if (!own?.protected) {
      drift.push({
        kind: 'missing_snapshot',
        subject,
        image: ceph,
        detail: own ? `${ceph}@${snap} is not protected` : `${ceph}@${snap} is missing`,
        repair: 'make and protect it',
      });
    }
  }

  private async repair(drift: Drift): Promise<void> {
    try {
      switch (drift.kind) {
        case 'interrupted_operation':
          // recovery ran first; one still interrupted could not be recovered yet (its error is logged)
          throw new Error('recovery did not succeed yet; see the log');
        case 'orphan_image':
          await this.locks.run([exclusive(lockKey.rbd(drift.image!))], async () => {
            if (await this.rowOf(drift.image!)) throw new Error('a row names it now');
            await this.steps.removeImageIfExists(drift.image!);
          });
          break;
        case 'missing_snapshot':
        case 'leftover_snapshot':
        case 'missing_target':
          await this.repairImage(drift);
          break;
        default:
          return;
      }
      drift.repaired = true;
      this.logger.log(`repaired ${drift.kind} ${drift.subject}`);
    } catch (e) {
      drift.repaired = false;
      drift.error = e instanceof Error ? e.message : String(e);
      this.logger.warn(`could not repair ${drift.kind} ${drift.subject}: ${drift.error}`);
    }
  }

  /** A repair of one row's image or target, under its lock, with the row read again. */
  private async repairImage(drift: Drift): Promise<void> {
    const row = await this.rowOf(drift.image!);
    if (!row) throw new Error('its row is gone');
    await this.locks.run([exclusive(lockKey.image(row.projectId, row.name))], async () => {
      // read again under the lock: unmounted, deleted, renamed or moved meanwhile is not ours to repair
      const now = await this.catalog.byId(row.id);
      if (!now || now.name !== row.name || now.projectId !== row.projectId) throw new Error('the image changed');
      if (drift.kind === 'missing_target' && !now.exported) throw new Error('it is no longer exported');
      const ceph = this.catalog.cephName(row);
      const snap = this.config.bmi.snapshot;
      if (drift.kind === 'missing_target') {
        try {
          await this.iscsi.export(ceph);
        } catch (e) {
          if (!(e instanceof TargetExistsError)) throw e;
        }
      } else if (drift.kind === 'missing_snapshot') {
        await this.steps.ensureProtectedSnapshot(ceph, snap);
      } else {
        const children = await this.storage.children(ceph, snap);
        if (children.length) throw new Error(`${ceph}@${snap} has clones: ${children.join(', ')}`);
        await this.steps.removeSnapshotIfExists(ceph, snap);
      }
    });
  }

  /** The row whose Ceph name is `image` (`<uid>img<id>`), if any. */
  private rowOf(image: string): Promise<ImageEntity | null> {
    return this.catalog.byId(this.catalog.idOf(image));
  }
}

/**
 * Row ids and image names that running operations are making or changing (work in progress, not drift), and
 * those of interrupted ones (reported as such, and for their recovery to settle).
 */
function busyWith(ops: OperationRow[]): { rows: Set<number>; images: Set<string> } {
  const rows = new Set<number>();
  const images = new Set<string>();
  for (const op of ops) {
    for (const step of op.steps) {
      for (const action of [step.undo, step.redo]) {
        if (typeof action?.args.id === 'number') rows.add(action.args.id);
        if (typeof action?.args.image === 'string') images.add(action.args.image);
        const saved = action?.args.row as { id?: unknown } | undefined;
        if (typeof saved?.id === 'number') rows.add(saved.id);
      }
    }
  }
  return { rows, images };
}
