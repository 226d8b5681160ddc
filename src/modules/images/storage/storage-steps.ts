import { Logger } from '@nestjs/common';
import { Action, ActionHandler, Json } from '../../../common/orchestration/actions';
import { currentOperationId, reportProgress } from '../../../common/orchestration/journal';
import { Step } from '../../../common/orchestration/saga';
import { BlockStorage, SnapshotInfo } from './block-storage';
import {
  RbdImageBusyError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdSnapshotBusyError,
} from './storage.errors';

/**
 * Storage actions as saga steps, each with the durable action that undoes it (or, for the removal of an
 * image, completes it), and the handlers of those actions (`rbd.*`), which work whatever half of their step
 * ran: recovery runs them after a crash.
 */
export class StorageSteps {
  constructor(
    private readonly storage: BlockStorage,
    /** the snapshot every cloneable BMI image carries ([bmi] snapshot) */
    readonly snapshot: string,
    /** [bmi] uid: the mark of what this BMI made in the pool */
    private readonly uid: string,
  ) {}

  /** The handlers of the actions these steps name, for SagaActions. */
  handlers(): Record<string, ActionHandler> {
    return {
      'rbd.remove': async ({ image }) => void (await this.removeImageIfExists(str(image))),
      'rbd.snapshot.remove': async ({ image, snap }) => void (await this.removeSnapshotIfExists(str(image), str(snap))),
      'rbd.snapshot.restore': ({ image, snap }) => this.ensureProtectedSnapshot(str(image), str(snap)),
      'rbd.snapshot.protect': ({ image, snap }) => this.setProtection(str(image), str(snap), true),
      'rbd.snapshot.unprotect': ({ image, snap }) => this.setProtection(str(image), str(snap), false),
    };
  }

  /**
   * Clone `parent@snap` into `child`; undo removes the child (and anything sealed on it). The child is marked
   * as BMI's (MARK_KEYS: this BMI's uid, the journaled operation that made it, its source), over the marks
   * librbd copies from the parent; with `mark: false` (a raw image handed out of BMI) the copied marks are
   * removed instead. A clone that cannot be marked is removed again before the step fails.
   */
  clone(parent: string, snap: string, child: string, options: { mark?: boolean } = {}): Step {
    return {
      name: `clone ${parent}@${snap} to ${child}`,
      run: async () => {
        await this.storage.clone(parent, snap, child);
        try {
          if (options.mark === false) await this.unmark(child);
          else await this.storage.setMetadata(child, this.marks(`${parent}@${snap}`));
        } catch (e) {
          await this.removeImageIfExists(child).catch((cleanup: unknown) =>
            logger.error(
              `clone ${child} could not be marked (${describe(e)}) nor removed (${describe(cleanup)}); ` +
                'remove it by hand',
            ),
          );
          throw e;
        }
      },
      undo: removal(child),
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

  /** A new, empty image of `size` bytes, marked as BMI's (made from `source`); undo removes it. */
  createImage(image: string, size: number, source: string): Step {
    return {
      name: `create image ${image} of ${size} bytes`,
      run: async () => {
        await this.storage.createImage(image, size);
        await this.storage.setMetadata(image, this.marks(source));
      },
      undo: removal(image),
    };
  }

  /** Flatten a clone made by this operation: undone with it (its undo removes the image, as the clone's does). */
  flatten(image: string): Step {
    return {
      name: `flatten ${image}`,
      run: () => this.storage.flatten(image, reportProgress),
      undo: removal(image),
    };
  }

  /** Create and protect `image@snap`; undo unprotects and removes it. */
  protectedSnapshot(image: string, snap = this.snapshot): Step {
    return {
      name: `create protected snapshot ${image}@${snap}`,
      run: async () => {
        await this.storage.createSnapshot(image, snap);
        try {
          await this.storage.protectSnapshot(image, snap);
        } catch (e) {
          await this.storage.removeSnapshot(image, snap).catch(() => undefined);
          throw e;
        }
      },
      undo: { type: 'rbd.snapshot.remove', args: { image, snap } },
    };
  }

  /**
   * Unprotect and remove `image@snap`, if it is there (asked before the step: null when it is not, so that
   * the undo never makes a snapshot that was not there). Undo puts it back, protected.
   */
  async dropSnapshot(image: string, snap = this.snapshot): Promise<Step | null> {
    if (!(await this.snapshotOf(image, snap))) return null;
    return {
      name: `remove snapshot ${image}@${snap}`,
      run: async () => void (await this.removeSnapshotIfExists(image, snap)),
      undo: { type: 'rbd.snapshot.restore', args: { image, snap } },
    };
  }

  /** The image's snapshots; none when the image does not exist. */
  async snapshots(image: string): Promise<SnapshotInfo[]> {
    try {
      return await this.storage.listSnapshots(image);
    } catch (e) {
      if (e instanceof RbdImageNotFoundError) return [];
      throw e;
    }
  }

  /** Protect an existing snapshot; undo unprotects it. */
  protect(image: string, snap: string): Step {
    return {
      name: `protect ${image}@${snap}`,
      run: () => this.storage.protectSnapshot(image, snap),
      undo: { type: 'rbd.snapshot.unprotect', args: { image, snap } },
    };
  }

  /** Unprotect a snapshot; undo protects it again. */
  unprotect(image: string, snap: string): Step {
    return {
      name: `unprotect ${image}@${snap}`,
      run: () => this.storage.unprotectSnapshot(image, snap),
      undo: { type: 'rbd.snapshot.protect', args: { image, snap } },
    };
  }

  /** The irreversible last step of a removal; an image that is already gone counts as removed. */
  removeImage(image: string): Step {
    return {
      name: `remove image ${image}`,
      run: async () => void (await this.removeImageIfExists(image)),
      redo: removal(image),
      // librbd checks watchers, snapshots and clones before it deletes anything
      refused: (e) =>
        e instanceof RbdImageBusyError || e instanceof RbdImageHasSnapshotsError || e instanceof RbdSnapshotBusyError,
    };
  }

  /** Copy `src@snap` into a new, independent, cloneable image: clone, flatten, seal with `@<snapshot>`. */
  sealedCopy(src: string, snap: string, dest: string): Step[] {
    return [this.clone(src, snap, dest), this.flatten(dest), this.protectedSnapshot(dest)];
  }

  private async snapshotOf(image: string, snap: string): Promise<{ protected: boolean } | undefined> {
    return (await this.snapshots(image)).find((s) => s.name === snap);
  }

  /** Makes `image@snap` if it is missing and protects it if it is not. */
  async ensureProtectedSnapshot(image: string, snap: string): Promise<void> {
    let found = await this.snapshotOf(image, snap);
    if (!found) {
      await this.storage.createSnapshot(image, snap);
      found = { protected: false };
    }
    if (!found.protected) await this.storage.protectSnapshot(image, snap);
  }

  private async setProtection(image: string, snap: string, protect: boolean): Promise<void> {
    const found = await this.snapshotOf(image, snap);
    if (!found || found.protected === protect) return;
    if (protect) await this.storage.protectSnapshot(image, snap);
    else await this.storage.unprotectSnapshot(image, snap);
  }

  async removeSnapshotIfExists(image: string, snap: string): Promise<boolean> {
    const found = await this.snapshotOf(image, snap);
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

  /**
   * Removes an image and the BMI snapshot on it; false when there was no image. librbd is asked to remove it
   * even when it cannot be opened: an image a crash left half made or half removed is cleaned up too.
   */
  async removeImageIfExists(image: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage.removeImage(image);
        return true;
      } catch (e) {
        if (e instanceof RbdImageNotFoundError) return false;
        // librbd refuses an image with snapshots before it removes anything. BMI's own snapshot goes with its
        // image: removed, then the image again. (Not looked for first: most images have none, and each look is
        // one more open of the image.)
        if (attempt === 1 && e instanceof RbdImageHasSnapshotsError) {
          if (await this.removeSnapshotIfExists(image, this.snapshot)) continue;
        }
        throw e;
      }
    }
  }
}

const logger = new Logger('Storage');

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The metadata keys of BMI's mark on an RBD image. */
export const MARK_KEYS = { uid: 'bmi_uid', operation: 'bmi_operation', source: 'bmi_source' } as const;

function removal(image: string): Action {
  return { type: 'rbd.remove', args: { image } };
}

function str(v: Json): string {
  if (typeof v !== 'string') throw new Error(`expected a name, got ${JSON.stringify(v)}`);
  return v;
}
