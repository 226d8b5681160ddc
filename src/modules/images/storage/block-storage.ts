import { RbdInvalidOperationError } from './storage.errors';

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
  /**
   * Copies the parent's data into the clone and detaches it from its parent; `onProgress` hears how many of
   * the image's objects are copied, now and then.
   */
  abstract flatten(image: string, onProgress?: (done: number, total: number) => void): Promise<void>;
  abstract parentOf(image: string): Promise<ParentInfo | null>;
  /** Images cloned from `image@snapshot` and not flattened yet. */
  abstract children(image: string, snapshot: string): Promise<string[]>;

  /*
   * Image metadata: string keys and values kept with the image in the store (RBD image metadata), so that what
   * BMI made there can be attributed without the database.
   * - An unknown image is RbdImageNotFoundError, for every call (setMetadata with no entries too).
   * - A key is non-empty, has no NUL and does not start with `conf_` (librbd reads those keys as settings of the
   *   image, e.g. conf_rbd_cache); a value has no NUL and may be empty. Anything else is RbdInvalidOperationError,
   *   before anything is written (see checkMetadataKey / checkMetadataValue).
   * - A clone starts with a COPY of its parent image's metadata as the parent has it when the clone is made (not
   *   as it was when the snapshot was taken): librbd's rbd_clone3 copies it, format 1 and 2, measured on Ceph
   *   16.2. From then on the two are independent. flatten keeps the clone's metadata. A removed image takes its
   *   metadata with it: an image created later under the same name starts with none.
   */
  /** Every key of the image with its value; {} when it has none. */
  abstract getMetadata(image: string): Promise<Record<string, string>>;
  /**
   * Sets the given keys (overwriting their values; other keys stay). One key after the other, not atomically: a
   * failure of the store can leave the keys before it set.
   */
  abstract setMetadata(image: string, entries: Record<string, string>): Promise<void>;
  /** Removes one key; a key the image does not have is not an error. */
  abstract removeMetadata(image: string, key: string): Promise<void>;

  /** Releases the connection; called once at shutdown. */
  /** Opens an image for writing (an upload's data): one open for all its writes, until the writer is closed. */
  abstract openWriter(image: string): Promise<ImageWriter>;
  abstract close(): Promise<void>;
}

/** An image open for writing. */
export interface ImageWriter {
  write(offset: number, data: Buffer): Promise<void>;
  /** Flushes and closes; the writes are on the cluster when it resolves. */
  close(): Promise<void>;
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

/** Keys that librbd takes for settings of the image, not for data; BlockStorage refuses them. */
export const RBD_CONFIG_KEY_PREFIX = 'conf_';

/** The metadata key rules of BlockStorage, the same for every implementation. */
export function checkMetadataKey(image: string, key: string): void {
  if (typeof key !== 'string' || key === '' || key.includes('\0')) {
    throw new RbdInvalidOperationError(`Metadata key ${JSON.stringify(key)} of ${image} must be non-empty, no NUL`);
  }
  if (key.startsWith(RBD_CONFIG_KEY_PREFIX)) {
    throw new RbdInvalidOperationError(
      `Metadata key ${key} of ${image}: keys starting with ${RBD_CONFIG_KEY_PREFIX} are librbd settings`,
    );
  }
}

export function checkMetadataValue(image: string, key: string, value: string): void {
  if (typeof value !== 'string' || value.includes('\0')) {
    throw new RbdInvalidOperationError(`Metadata value of ${key} on ${image} must be a string without NUL`);
  }
}

/** Checks every entry before anything is written; returns them as [key, value] pairs. */
export function checkMetadataEntries(image: string, entries: Record<string, string>): [string, string][] {
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new RbdInvalidOperationError(`Metadata of ${image} must be an object of strings`);
  }
  const pairs = Object.entries(entries);
  for (const [key, value] of pairs) {
    checkMetadataKey(image, key);
    checkMetadataValue(image, key, value);
  }
  return pairs;
}
