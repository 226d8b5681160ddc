/**
 * BlockStorage: the only seam through which BMI talks to its image store (a Ceph RBD pool).
 *
 * Names are image names inside the one configured pool. Snapshots are addressed as (image, snapshot).
 * Implementations enforce Ceph's rules and report violations with the errors of storage.errors.ts:
 * - an image that does not exist: RbdImageNotFoundError (also for a missing snapshot);
 * - creating what exists: RbdImageExistsError;
 * - removing an image that still has snapshots: RbdImageHasSnapshotsError;
 * - removing a protected snapshot: RbdSnapshotBusyError;
 * - unprotecting a snapshot that has clones: RbdImageBusyError;
 * - cloning from an unprotected snapshot, protecting twice, unprotecting an unprotected snapshot:
 *   RbdInvalidOperationError.
 * Every name given to a method has been validated by the caller (common/validation/names.ts).
 */
export abstract class BlockStorage {
  abstract listImages(): Promise<string[]>;
  abstract imageExists(image: string): Promise<boolean>;
  /** Creates an empty image (golden-image tools, tests, the fake's seed). */
  abstract createImage(image: string, sizeBytes: number): Promise<void>;
  abstract removeImage(image: string): Promise<void>;
  abstract imageSize(image: string): Promise<number>;

  abstract listSnapshots(image: string): Promise<SnapshotInfo[]>;
  abstract createSnapshot(image: string, snapshot: string): Promise<void>;
  abstract removeSnapshot(image: string, snapshot: string): Promise<void>;
  abstract protectSnapshot(image: string, snapshot: string): Promise<void>;
  abstract unprotectSnapshot(image: string, snapshot: string): Promise<void>;

  /** Copy-on-write clone of `parent@snapshot` named `child` (layering only, as the original did). */
  abstract clone(parent: string, snapshot: string, child: string): Promise<void>;
  /** Copies the parent's data into the clone and detaches it from its parent. */
  abstract flatten(image: string): Promise<void>;
  abstract parentOf(image: string): Promise<ParentInfo | null>;
  /** Images cloned from `image@snapshot` and not flattened yet. */
  abstract children(image: string, snapshot: string): Promise<string[]>;

  /** Releases the connection; called once at shutdown. */
  abstract close(): Promise<void>;
}

export interface SnapshotInfo {
  name: string;
  protected: boolean;
}

export interface ParentInfo {
  pool: string;
  image: string;
  snapshot: string;
}
