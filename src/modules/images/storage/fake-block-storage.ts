import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
} from './storage.errors';

interface FakeSnapshot {
  protected: boolean;
  children: Set<string>;
}

interface FakeImage {
  size: number;
  snapshots: Map<string, FakeSnapshot>;
  parent: { image: string; snapshot: string } | null;
  metadata: Map<string, string>;
}

/**
 * The pool as kept in a state file: every image with its size, parent, snapshots and metadata. `metadata` came
 * later: a file written before it has none, read as no metadata.
 */
interface FakePoolState {
  images: {
    name: string;
    size: number;
    parent: { image: string; snapshot: string } | null;
    snapshots: { name: string; protected: boolean }[];
    metadata?: Record<string, string>;
  }[];
}

/**
 * An in-memory RBD pool: images, snapshots, protection and the parent/child graph, refusing what Ceph refuses
 * (see BlockStorage). It is a full implementation, used by the laptop mode and the e2e tests; the storage
 * contract tests run against it and against real Ceph, which is what keeps it honest.
 *
 * With a state file (`[fs] fake_state`, the laptop mode) the pool outlives the process as the database does:
 * it is read at start (the seed images only fill a pool that has no file yet) and written after every change,
 * whole, to a temporary file renamed over the old one, so that a crash leaves the old state or the new one.
 */
export class FakeBlockStorage extends BlockStorage {
  private readonly images = new Map<string, FakeImage>();

  constructor(
    private readonly pool = 'bmi',
    seed: { image: string; sizeBytes?: number }[] = [],
    private readonly stateFile = '',
  ) {
    super();
    if (stateFile && existsSync(stateFile)) {
      this.load(JSON.parse(readFileSync(stateFile, 'utf8')) as FakePoolState);
      return;
    }
    for (const s of seed)
      this.images.set(s.image, {
        size: s.sizeBytes ?? 1 << 30,
        snapshots: new Map(),
        parent: null,
        metadata: new Map(),
      });
    this.save();
  }

  async listImages(): Promise<string[]> {
    return [...this.images.keys()].sort();
  }

  async imageExists(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async createImage(image: string, sizeBytes: number): Promise<void> {
    if (this.images.has(image)) throw RbdImageExistsError.of(image);
    this.images.set(image, { size: sizeBytes, snapshots: new Map(), parent: null, metadata: new Map() });
    this.save();
  }

  async removeImage(image: string): Promise<void> {
    const img = this.get(image);
    if (img.snapshots.size > 0) throw RbdImageHasSnapshotsError.of(image);
    if (img.parent) this.images.get(img.parent.image)?.snapshots.get(img.parent.snapshot)?.children.delete(image);
    this.images.delete(image);
    this.save();
  }

  async imageSize(image: string): Promise<number> {
    return this.get(image).size;
  }

  /** Bytes written to each image through openWriter (the data itself is not kept). */
  readonly written = new Map<string, number>();

  async openWriter(image: string): Promise<ImageWriter> {
    this.get(image);
    let open = true;
    return {
      write: async (offset, data) => {
        if (!open) throw new Error(`writer of ${image} is closed`);
        // as librbd: no write past the end of the image
        if (offset + data.length > this.get(image).size) {
          throw new RbdInvalidOperationError(`Ceph refused write of ${image}: invalid argument`);
        }
        this.written.set(image, (this.written.get(image) ?? 0) + data.length);
      },
      close: async () => {
        open = false;
      },
    };
  }

  async listSnapshots(image: string): Promise<SnapshotInfo[]> {
    return [...this.get(image).snapshots].map(([name, s]) => ({ name, protected: s.protected }));
  }

  async createSnapshot(image: string, snapshot: string): Promise<void> {
    const img = this.get(image);
    if (img.snapshots.has(snapshot)) throw RbdImageExistsError.of(snapshot);
    img.snapshots.set(snapshot, { protected: false, children: new Set() });
    this.save();
  }

  async removeSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (snap.protected) throw RbdSnapshotBusyError.of(snapshot);
    this.get(image).snapshots.delete(snapshot);
    this.save();
  }

  async protectSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (snap.protected) throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${image} is already protected`);
    snap.protected = true;
    this.save();
  }

  async unprotectSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (!snap.protected) throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${image} is not protected`);
    if (snap.children.size > 0) throw RbdImageBusyError.of(image);
    snap.protected = false;
    this.save();
  }

  async clone(parent: string, snapshot: string, child: string): Promise<void> {
    const snap = this.snap(parent, snapshot);
    if (!snap.protected) {
      throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${parent} must be protected before cloning`);
    }
    if (this.images.has(child)) throw RbdImageExistsError.of(child);
    const from = this.get(parent);
    // as librbd does: the child starts with a copy of the parent image's metadata as it is now
    this.images.set(child, {
      size: from.size,
      snapshots: new Map(),
      parent: { image: parent, snapshot },
      metadata: new Map(from.metadata),
    });
    snap.children.add(child);
    this.save();
  }

  async flatten(image: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    const img = this.get(image);
    if (!img.parent) return;
    // the fake has no objects to copy: it reports the two ends of the copy
    onProgress?.(0, 1);
    onProgress?.(1, 1);
    this.images.get(img.parent.image)?.snapshots.get(img.parent.snapshot)?.children.delete(image);
    img.parent = null;
    this.save();
  }

  async parentOf(image: string): Promise<ParentInfo | null> {
    const p = this.get(image).parent;
    return p ? { pool: this.pool, image: p.image, snapshot: p.snapshot } : null;
  }

  async children(image: string, snapshot: string): Promise<string[]> {
    return [...this.snap(image, snapshot).children].sort();
  }

  async getMetadata(image: string): Promise<Record<string, string>> {
    // fromEntries defines own properties: a key "__proto__" stays a key
    return Object.fromEntries([...this.get(image).metadata].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async setMetadata(image: string, entries: Record<string, string>): Promise<void> {
    const pairs = checkMetadataEntries(image, entries);
    const img = this.get(image);
    if (pairs.length === 0) return;
    for (const [key, value] of pairs) img.metadata.set(key, value);
    this.save();
  }

  async removeMetadata(image: string, key: string): Promise<void> {
    checkMetadataKey(image, key);
    const img = this.get(image);
    if (img.metadata.delete(key)) this.save();
  }

  async close(): Promise<void> {}

  private load(state: FakePoolState): void {
    for (const i of state.images) {
      const snapshots = new Map(
        i.snapshots.map((s) => [s.name, { protected: s.protected, children: new Set<string>() }]),
      );
      this.images.set(i.name, {
        size: i.size,
        snapshots,
        parent: i.parent,
        metadata: new Map(Object.entries(i.metadata ?? {})),
      });
    }
    // the children are the other side of the parent links
    for (const [name, img] of this.images) {
      if (img.parent) this.images.get(img.parent.image)?.snapshots.get(img.parent.snapshot)?.children.add(name);
    }
  }

  private save(): void {
    if (!this.stateFile) return;
    const state: FakePoolState = {
      images: [...this.images].map(([name, img]) => ({
        name,
        size: img.size,
        parent: img.parent,
        snapshots: [...img.snapshots].map(([snap, s]) => ({ name: snap, protected: s.protected })),
        metadata: Object.fromEntries(img.metadata),
      })),
    };
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1));
    renameSync(tmp, this.stateFile);
  }

  private get(image: string): FakeImage {
    const img = this.images.get(image);
    if (!img) throw RbdImageNotFoundError.of(image);
    return img;
  }

  private snap(image: string, snapshot: string): FakeSnapshot {
    const snap = this.get(image).snapshots.get(snapshot);
    if (!snap) throw RbdImageNotFoundError.of(`${image}@${snapshot}`);
    return snap;
  }
}
