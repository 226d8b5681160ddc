import { Logger } from '@nestjs/common';
import { currentOperationId } from '../../../common/orchestration/journal';
import { Step } from '../../../common/orchestration/saga';
import { BlockStorage } from './block-storage';
import { RbdImageNotFoundError } from './storage.errors';

/**
 * Storage actions as saga steps, each with its undo, plus the tolerant helpers the undos need (an undo must
 * work whatever half of its step ran). `image` arguments may be functions: the Ceph name of a new row is known
 * only once an earlier step has inserted it.
 */
export class StorageSteps {
  constructor(
    private readonly storage: BlockStorage,
    /** the snapshot every cloneable BMI image carries ([bmi] snapshot) */
    readonly snapshot: string,
    /** [bmi] uid: the mark of what this BMI made in the pool */
    private readonly uid: string,
  ) {}

  /**
   * Clone `parent@snap` into `child`; undo removes the child (and anything sealed on it). The child is marked
   * as BMI's (MARK_KEYS: this BMI's uid, the journaled operation that made it, its source), over the marks
   * librbd copies from the parent; with `mark: false` (a raw image handed out of BMI) the copied marks are
   * removed instead. A clone that cannot be marked is removed again before the step fails.
   */
  clone(parent: Name, snap: string, child: Name, options: { mark?: boolean } = {}): Step {
    return {
      name: `clone ${at(parent, snap)} to ${label(child)}`,
      run: async () => {
        await this.storage.clone(name(parent), snap, name(child));
        try {
          if (options.mark === false) await this.unmark(name(child));
          else await this.storage.setMetadata(name(child), this.marks(`${name(parent)}@${snap}`));
        } catch (e) {
          await this.removeImageIfExists(name(child)).catch((cleanup: unknown) =>
            logger.error(
              `clone ${name(child)} could not be marked (${describe(e)}) nor removed (${describe(cleanup)}); ` +
                'remove it by hand',
            ),
          );
          throw e;
        }
      },
      undo: async () => void (await this.removeImageIfExists(name(child))),
    };
  }

  /** What BMI writes on each image it makes. */
  marks(source: string): Record<string, string> {
    return { [MARK_KEYS.uid]: this.uid, [MARK_KEYS.operation]: currentOperationId() ?? '', [MARK_KEYS.source]: source };
  }

  private async unmark(image: string): Promise<void> {
    const present = Object.keys(await this.storage.getMetadata(image));
    for (const key of Object.values(MARK_KEYS))
      if (present.includes(key)) await this.storage.removeMetadata(image, key);
  }

  /** Flatten: undone together with the clone it applies to. */
  flatten(image: Name): Step {
    return { name: `flatten ${label(image)}`, run: () => this.storage.flatten(name(image)) };
  }

  /** Create and protect `image@snap`; undo unprotects and removes it. */
  protectedSnapshot(image: Name, snap = this.snapshot): Step {
    return {
      name: `create protected snapshot ${at(image, snap)}`,
      run: async () => {
        await this.storage.createSnapshot(name(image), snap);
        try {
          await this.storage.protectSnapshot(name(image), snap);
        } catch (e) {
          await this.storage.removeSnapshot(name(image), snap).catch(() => undefined);
          throw e;
        }
      },
      undo: async () => void (await this.removeSnapshotIfExists(name(image), snap)),
    };
  }

  /** Unprotect and remove `image@snap`; undo puts it back, protected. */
  dropSnapshot(image: Name, snap = this.snapshot): Step {
    let existed = false;
    return {
      name: `remove snapshot ${at(image, snap)}`,
      run: async () => {
        existed = await this.removeSnapshotIfExists(name(image), snap);
      },
      undo: async () => {
        if (!existed) return;
        await this.storage.createSnapshot(name(image), snap);
        await this.storage.protectSnapshot(name(image), snap);
      },
    };
  }

  /** Protect an existing snapshot; undo unprotects it. */
  protect(image: Name, snap: string): Step {
    return {
      name: `protect ${at(image, snap)}`,
      run: () => this.storage.protectSnapshot(name(image), snap),
      undo: () => this.storage.unprotectSnapshot(name(image), snap),
    };
  }

  /** Unprotect a snapshot; undo protects it again. */
  unprotect(image: Name, snap: string): Step {
    return {
      name: `unprotect ${at(image, snap)}`,
      run: () => this.storage.unprotectSnapshot(name(image), snap),
      undo: () => this.storage.protectSnapshot(name(image), snap),
    };
  }

  /** The irreversible last step of a removal; an image that is already gone counts as removed. */
  removeImage(image: Name): Step {
    return {
      name: `remove image ${label(image)}`,
      run: async () => void (await this.removeImageIfExists(name(image))),
    };
  }

  /** Copy `src@snap` into a new, independent, cloneable image: clone, flatten, seal with `@<snapshot>`. */
  sealedCopy(src: Name, snap: string, dest: Name): Step[] {
    return [this.clone(src, snap, dest), this.flatten(dest), this.protectedSnapshot(dest)];
  }

  async removeSnapshotIfExists(image: string, snap: string): Promise<boolean> {
    let snaps;
    try {
      snaps = await this.storage.listSnapshots(image);
    } catch (e) {
      if (e instanceof RbdImageNotFoundError) return false;
      throw e;
    }
    const found = snaps.find((s) => s.name === snap);
    if (!found) return false;
    if (found.protected) await this.storage.unprotectSnapshot(image, snap);
    try {
      await this.storage.removeSnapshot(image, snap);
    } catch (e) {
      // leave it as found: an unprotected BMI snapshot can no longer be cloned from
      if (found.protected) await this.storage.protectSnapshot(image, snap).catch(() => undefined);
      throw e;
    }
    return true;
  }

  /** Removes an image and the BMI snapshot on it; false when there was no image. */
  async removeImageIfExists(image: string): Promise<boolean> {
    if (!(await this.storage.imageExists(image))) return false;
    await this.removeSnapshotIfExists(image, this.snapshot);
    try {
      await this.storage.removeImage(image);
    } catch (e) {
      if (e instanceof RbdImageNotFoundError) return false;
      throw e;
    }
    return true;
  }
}

const logger = new Logger('Storage');

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The metadata keys of BMI's mark on an RBD image. */
export const MARK_KEYS = { uid: 'bmi_uid', operation: 'bmi_operation', source: 'bmi_source' } as const;

export type Name = string | (() => string);

function name(n: Name): string {
  return typeof n === 'function' ? n() : n;
}

/** For step names, built before an earlier step has made the name known. */
function label(n: Name): string {
  try {
    return name(n);
  } catch {
    return '<new image>';
  }
}

function at(image: Name, snap: string): string {
  return `${label(image)}@${snap}`;
}
