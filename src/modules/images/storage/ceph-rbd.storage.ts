import { Logger } from '@nestjs/common';
import { CallGate } from '../../../common/concurrency/call-gate';
import { CallObserver, timed } from '../../../common/observability/metrics';
import type * as Rbd from 'ceph-rbd-napi';
import {
  BlockStorage,
  checkMetadataEntries,
  checkMetadataKey,
  ImageWriter,
  ParentInfo,
  SnapshotInfo,
} from './block-storage';
import {
  RbdImageBusyError,
  RbdImageExistsError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdInvalidOperationError,
  RbdSnapshotBusyError,
  StorageFailedError,
  StorageUnavailableError,
} from './storage.errors';

/** What this driver uses of ceph-rbd-napi (the binding is loaded lazily: machines without librbd never load it). */
export interface RbdBinding {
  connect(opts: { confFile: string; clientId: string; keyring?: string; timeoutSeconds?: number }): Promise<RbdCluster>;
}
export interface RbdCluster {
  openPool(pool: string): Promise<RbdIoCtx>;
  addresses(): Promise<string>;
  blocklist(address: string, expireSeconds?: number): Promise<void>;
  close(): Promise<void>;
}
export interface RbdIoCtx {
  listImages(): Promise<string[]>;
  create(image: string, sizeBytes: number, opts?: { features?: number; order?: number }): Promise<void>;
  remove(image: string): Promise<void>;
  stat(image: string): Promise<{ size: number }>;
  snapCreate(image: string, snap: string): Promise<void>;
  snapRemove(image: string, snap: string): Promise<void>;
  snapProtect(image: string, snap: string): Promise<void>;
  snapUnprotect(image: string, snap: string): Promise<void>;
  snapIsProtected(image: string, snap: string): Promise<boolean>;
  /** every snapshot, including format-2 clone parents moved to the `trash` namespace */
  snapList(image: string): Promise<{ name: string; namespace?: string }[]>;
  clone(parent: string, snap: string, child: string, opts?: { format?: 1 | 2; features?: number }): Promise<void>;
  flatten(image: string, onProgress?: (done: number, total: number) => void): Promise<void>;
  parentInfo(image: string): Promise<{ pool: string; image: string; snapshot: string } | null>;
  children(image: string, snap: string): Promise<{ pool: string; image: string }[]>;
  metadataList(image: string): Promise<Record<string, string>>;
  /** the keys set with the image opened once */
  metadataSetMany(image: string, entries: Readonly<Record<string, string>>): Promise<void>;
  /** resolves also when the image has no such key */
  metadataRemove(image: string, key: string): Promise<void>;
  openImage(image: string, opts?: { readOnly?: boolean }): Promise<RbdOpenImage>;
  close(): Promise<void>;
}

/** An image opened for writes (uploads). */
export interface RbdOpenImage {
  write(offset: number, data: Buffer): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

// The binding must keep offering what this driver uses: checked at compile time, loaded at run time only.
type Satisfies<T extends U, U> = T;
export type BindingChecks = [
  Satisfies<typeof Rbd.connect, (o: Parameters<RbdBinding['connect']>[0]) => Promise<RbdCluster>>,
  Satisfies<Rbd.Cluster, RbdCluster>,
  Satisfies<Rbd.IoCtx, RbdIoCtx>,
];

export interface CephRbdOptions {
  confFile: string;
  /** Ceph client id, without "client." */
  clientId: string;
  keyring?: string;
  pool: string;
  /** librados mount, monitor and OSD operation timeouts: without them an unhealthy cluster hangs calls forever */
  timeoutSeconds: number;
  /** librbd calls in flight at once (each holds a libuv pool thread); default 12 of main.ts's 16 */
  maxCalls?: number;
  /** after Ceph did not answer, calls fail at once for this long (0: never); default 10 */
  downSeconds?: number;
  /** told the time of every librbd call */
  observe?: CallObserver;
}

/** RBD feature bit for layering, the one feature BMI's clones need (as the original's `features=1`). */
const LAYERING = 1;

/**
 * BlockStorage on a Ceph RBD pool through librbd (ceph-rbd-napi), over one long-lived connection. Clones are
 * format 1 (a protected parent snapshot, as the original BMI made them), so pools laid out by the original
 * keep working. librbd errors become BMI's storage errors here and nowhere else.
 */
export class CephRbdStorage extends BlockStorage {
  private readonly logger = new Logger(CephRbdStorage.name);

  private readonly gate: CallGate;
  private readonly observe?: CallObserver;

  private constructor(
    private readonly cluster: RbdCluster,
    private readonly io: RbdIoCtx,
    readonly pool: string,
    options: Pick<CephRbdOptions, 'maxCalls' | 'downSeconds' | 'observe'>,
  ) {
    super();
    this.observe = options.observe;
    this.gate = new CallGate({
      maxConcurrent: options.maxCalls ?? 12,
      cooldownMs: (options.downSeconds ?? 10) * 1000,
      isOutage: (e) => e instanceof StorageUnavailableError,
      downError: (cause, retryInMs) =>
        new StorageUnavailableError(
          `Ceph is unavailable (${reason(cause)}); BMI tries it again in ${Math.ceil(retryInMs / 1000)} s`,
        ),
    });
  }

  static async connect(options: CephRbdOptions, binding: RbdBinding = loadBinding()): Promise<CephRbdStorage> {
    let cluster: RbdCluster;
    try {
      cluster = await binding.connect({
        confFile: options.confFile,
        clientId: options.clientId,
        keyring: options.keyring || undefined,
        timeoutSeconds: options.timeoutSeconds,
      });
    } catch (e) {
      throw new StorageUnavailableError(
        `Not Able to Connect to File System: Ceph as client.${options.clientId} with ${options.confFile}: ${reason(e)}`,
        { cause: e },
      );
    }
    try {
      return new CephRbdStorage(cluster, await cluster.openPool(options.pool), options.pool, options);
    } catch (e) {
      await cluster.close().catch(() => undefined);
      throw new StorageUnavailableError(`Cannot open Ceph pool ${options.pool}: ${reason(e)}`, { cause: e });
    }
  }

  listImages(): Promise<string[]> {
    return this.call('list', this.pool, async () => (await this.io.listImages()).sort());
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.call('stat', image, () => this.io.stat(image));
      return true;
    } catch (e) {
      if (e instanceof RbdImageNotFoundError) return false;
      throw e;
    }
  }

  createImage(image: string, sizeBytes: number): Promise<void> {
    return this.call('create', image, () => this.io.create(image, sizeBytes));
  }

  removeImage(image: string): Promise<void> {
    return this.call('remove', image, () => this.io.remove(image));
  }

  imageSize(image: string): Promise<number> {
    return this.call('stat', image, async () => (await this.io.stat(image)).size);
  }

  listSnapshots(image: string): Promise<SnapshotInfo[]> {
    return this.call('snap list', image, async () => {
      // user snapshots only: a removed parent of format-2 clones lingers in the trash namespace
      const snaps = (await this.io.snapList(image)).filter((x) => (x.namespace ?? 'user') === 'user');
      // one after the other: each librbd call holds a worker thread, and the gate counts this as one call
      const infos: SnapshotInfo[] = [];
      for (const s of snaps) infos.push({ name: s.name, protected: await this.io.snapIsProtected(image, s.name) });
      return infos;
    });
  }

  createSnapshot(image: string, snapshot: string): Promise<void> {
    return this.call('snap create', image, () => this.io.snapCreate(image, snapshot), snapshot);
  }

  removeSnapshot(image: string, snapshot: string): Promise<void> {
    return this.call('snap remove', image, () => this.io.snapRemove(image, snapshot), snapshot);
  }

  protectSnapshot(image: string, snapshot: string): Promise<void> {
    return this.call('snap protect', image, () => this.io.snapProtect(image, snapshot), snapshot);
  }

  unprotectSnapshot(image: string, snapshot: string): Promise<void> {
    return this.call('snap unprotect', image, () => this.io.snapUnprotect(image, snapshot), snapshot);
  }

  clone(parent: string, snapshot: string, child: string): Promise<void> {
    return this.call(
      'clone',
      parent,
      () => this.io.clone(parent, snapshot, child, { format: 1, features: LAYERING }),
      snapshot,
      child,
    );
  }

  async flatten(image: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    try {
      await this.call('flatten', image, () => this.io.flatten(image, onProgress));
    } catch (e) {
      // librbd refuses to flatten an image without a parent; for BMI that is simply done
      if (e instanceof RbdInvalidOperationError && (await this.parentOf(image)) === null) return;
      throw e;
    }
  }

  parentOf(image: string): Promise<ParentInfo | null> {
    return this.call('parent', image, () => this.io.parentInfo(image));
  }

  children(image: string, snapshot: string): Promise<string[]> {
    return this.call(
      'children',
      image,
      async () => (await this.io.children(image, snapshot)).map((c) => c.image).sort(),
      snapshot,
    );
  }

  getMetadata(image: string): Promise<Record<string, string>> {
    return this.call('metadata list', image, () => this.io.metadataList(image));
  }

  async setMetadata(image: string, entries: Record<string, string>): Promise<void> {
    // every key checked before any is set; then all of them with one open of the image (an open is a round trip
    // to the OSDs, as long as the setting itself). Nothing to set still names an image, which must exist.
    const pairs = checkMetadataEntries(image, entries);
    await this.call('metadata set', image, () => this.io.metadataSetMany(image, Object.fromEntries(pairs)));
  }

  async removeMetadata(image: string, key: string): Promise<void> {
    checkMetadataKey(image, key);
    await this.call('metadata remove', image, () => this.io.metadataRemove(image, key));
  }

  async openWriter(image: string): Promise<ImageWriter> {
    const img = await this.call('open', image, () => this.io.openImage(image, { readOnly: false }));
    return {
      write: (offset, data) =>
        this.call('write', image, async () => {
          for (let at = 0; at < data.length;) at += await img.write(offset + at, data.subarray(at));
        }),
      close: () =>
        this.call('close', image, async () => {
          try {
            await img.flush();
          } finally {
            await img.close();
          }
        }),
    };
  }

  /** This connection's session as the OSDs know it: what another instance fences after this one died. */
  session(): Promise<string> {
    return this.call('addresses', this.pool, () => this.cluster.addresses());
  }

  /**
   * Fences a dead instance's session (blocklisted for Ceph's default time, an hour): the OSDs refuse its
   * I/O and drop its watches, so the images it had open can be removed at once.
   */
  async fence(session: string): Promise<void> {
    await this.call('blocklist', session, () => this.cluster.blocklist(session, 0));
    this.logger.warn(`fenced the Ceph session ${session} of a stopped BMI instance`);
  }

  async close(): Promise<void> {
    await this.io.close().catch((e: unknown) => this.logger.warn(`closing the pool: ${reason(e)}`));
    await this.cluster.close().catch((e: unknown) => this.logger.warn(`closing the Ceph connection: ${reason(e)}`));
  }

  /** Every librbd call: through the gate (bounded, failing fast while Ceph is down), errno translated. */
  private call<T>(op: RbdOp, image: string, fn: () => Promise<T>, snapshot?: string, child?: string): Promise<T> {
    return this.gate.run(async () => {
      try {
        return await timed(this.observe, op, fn);
      } catch (e) {
        throw translate(e, op, image, snapshot, child);
      }
    });
  }
}

type RbdOp =
  | 'list'
  | 'stat'
  | 'create'
  | 'remove'
  | 'snap list'
  | 'snap create'
  | 'snap remove'
  | 'snap protect'
  | 'snap unprotect'
  | 'clone'
  | 'flatten'
  | 'parent'
  | 'children'
  | 'metadata list'
  | 'metadata set'
  | 'metadata remove'
  | 'addresses'
  | 'blocklist'
  | 'open'
  | 'write'
  | 'close';

/**
 * librbd's errno, in the context of the call, to the error Ceph's rule means for BMI (see BlockStorage).
 * A clone that fails with EEXIST names the child; everything else names the image or `image@snapshot`.
 */
export function translate(e: unknown, op: RbdOp, image: string, snapshot?: string, child?: string): Error {
  const code = (e as { code?: unknown })?.code;
  const target = snapshot ? `${image}@${snapshot}` : image;
  switch (code) {
    case 'ENOENT':
      return RbdImageNotFoundError.of(target);
    case 'EEXIST':
      return RbdImageExistsError.of(
        op === 'clone' && child ? child : op === 'snap create' ? (snapshot ?? image) : image,
      );
    case 'ENOTEMPTY':
      return RbdImageHasSnapshotsError.of(image);
    case 'EBUSY':
      if (op === 'snap remove') return RbdSnapshotBusyError.of(snapshot ?? image);
      if (op === 'snap protect') return new RbdInvalidOperationError(`Snapshot ${target} is already protected`);
      return RbdImageBusyError.of(image);
    case 'EINVAL':
      if (op === 'snap unprotect') return new RbdInvalidOperationError(`Snapshot ${target} is not protected`);
      if (op === 'clone') return new RbdInvalidOperationError(`Snapshot ${target} must be protected before cloning`);
      return new RbdInvalidOperationError(`Ceph refused ${op} of ${target}: invalid argument`);
    case 'ETIMEDOUT':
    case 'ECONNREFUSED':
    case 'ENOTCONN':
    case 'ESHUTDOWN':
    case 'EBADF':
      return new StorageUnavailableError(`Ceph did not answer ${op} of ${target} (${String(code)})`, { cause: e });
    default:
      return new StorageFailedError(`Ceph failed ${op} of ${target}: ${reason(e)}`, { cause: e });
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The one place that loads the native binding; an install without librbd's headers did not build it. */
function loadBinding(): RbdBinding {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ceph-rbd-napi') as RbdBinding;
  } catch (e) {
    throw new Error(
      `[driver] fs = ceph needs the librbd binding, which cannot be loaded (${reason(e)}): install librbd-dev and ` +
        'librados-dev, run `npm rebuild ceph-rbd-napi`, and start again; or set [driver] fs = fake',
      { cause: e },
    );
  }
}
