import { BlockStorage, ParentInfo, SnapshotInfo } from './block-storage';
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
}

/**
 * An in-memory RBD pool: images, snapshots, protection and the parent/child graph, refusing what Ceph refuses
 * (see BlockStorage). It is a full implementation, used by the laptop mode and the e2e tests; the storage
 * contract tests run against it and against real Ceph, which is what keeps it honest.
 */
export class FakeBlockStorage extends BlockStorage {
  private readonly images = new Map<string, FakeImage>();

  constructor(
    private readonly pool = 'bmi',
    seed: { image: string; sizeBytes?: number }[] = [],
  ) {
    super();
    for (const s of seed)
      this.images.set(s.image, { size: s.sizeBytes ?? 1 << 30, snapshots: new Map(), parent: null });
  }

  async listImages(): Promise<string[]> {
    return [...this.images.keys()].sort();
  }

  async imageExists(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async createImage(image: string, sizeBytes: number): Promise<void> {
    if (this.images.has(image)) throw RbdImageExistsError.of(image);
    this.images.set(image, { size: sizeBytes, snapshots: new Map(), parent: null });
  }

  async removeImage(image: string): Promise<void> {
    const img = this.get(image);
    if (img.snapshots.size > 0) throw RbdImageHasSnapshotsError.of(image);
    if (img.parent) this.images.get(img.parent.image)?.snapshots.get(img.parent.snapshot)?.children.delete(image);
    this.images.delete(image);
  }

  async imageSize(image: string): Promise<number> {
    return this.get(image).size;
  }

  async listSnapshots(image: string): Promise<SnapshotInfo[]> {
    return [...this.get(image).snapshots].map(([name, s]) => ({ name, protected: s.protected }));
  }

  async createSnapshot(image: string, snapshot: string): Promise<void> {
    const img = this.get(image);
    if (img.snapshots.has(snapshot)) throw RbdImageExistsError.of(snapshot);
    img.snapshots.set(snapshot, { protected: false, children: new Set() });
  }

  async removeSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (snap.protected) throw RbdSnapshotBusyError.of(snapshot);
    this.get(image).snapshots.delete(snapshot);
  }

  async protectSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (snap.protected) throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${image} is already protected`);
    snap.protected = true;
  }

  async unprotectSnapshot(image: string, snapshot: string): Promise<void> {
    const snap = this.snap(image, snapshot);
    if (!snap.protected) throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${image} is not protected`);
    if (snap.children.size > 0) throw RbdImageBusyError.of(image);
    snap.protected = false;
  }

  async clone(parent: string, snapshot: string, child: string): Promise<void> {
    const snap = this.snap(parent, snapshot);
    if (!snap.protected) {
      throw new RbdInvalidOperationError(`Snapshot ${snapshot} of ${parent} must be protected before cloning`);
    }
    if (this.images.has(child)) throw RbdImageExistsError.of(child);
    this.images.set(child, { size: this.get(parent).size, snapshots: new Map(), parent: { image: parent, snapshot } });
    snap.children.add(child);
  }

  async flatten(image: string): Promise<void> {
    const img = this.get(image);
    if (!img.parent) return;
    this.images.get(img.parent.image)?.snapshots.get(img.parent.snapshot)?.children.delete(image);
    img.parent = null;
  }

  async parentOf(image: string): Promise<ParentInfo | null> {
    const p = this.get(image).parent;
    return p ? { pool: this.pool, image: p.image, snapshot: p.snapshot } : null;
  }

  async children(image: string, snapshot: string): Promise<string[]> {
    return [...this.snap(image, snapshot).children].sort();
  }

  async close(): Promise<void> {}

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
