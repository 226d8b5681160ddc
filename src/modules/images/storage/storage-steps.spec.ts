import { Logger } from '@nestjs/common';
import { SagaActions } from '../../../common/orchestration/actions';
import type { JournaledOperation } from '../../../common/orchestration/journal';
import { runSaga as runBody, Step } from '../../../common/orchestration/saga';
import { FakeBlockStorage } from './fake-block-storage';
import { MARK_KEYS, StorageSteps } from './storage-steps';
import {
  RbdImageBusyError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdInvalidOperationError,
} from './storage.errors';

const S = 'bmi_snap';

let rbd: FakeBlockStorage;
let steps: StorageSteps;
let actions: SagaActions;

/** Runs the steps as one operation. */
function runSaga(kind: string, list: Step[], journal?: JournaledOperation): Promise<void> {
  return runBody(kind, actions, journal, async (s) => {
    for (const step of list) await s.step(step);
  });
}

/** What recovery, or a failed operation, does to undo the step. */
function undo(step: Step | null): Promise<void> {
  if (!step?.undo) throw new Error('the step has no undo');
  return actions.run(step.undo);
}

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  rbd = new FakeBlockStorage('bmi', [{ image: 'src' }, { image: 'plain' }]);
  steps = new StorageSteps(rbd, S, '5');
  actions = new SagaActions();
  actions.register(steps.handlers());
  await rbd.createSnapshot('src', S);
  await rbd.protectSnapshot('src', S);
});
afterEach(() => jest.restoreAllMocks());

/** Everything observable about the pool, to compare before and after. */
async function poolState() {
  const state: Record<string, unknown> = {};
  for (const image of await rbd.listImages()) {
    const snaps = await rbd.listSnapshots(image);
    state[image] = {
      parent: await rbd.parentOf(image),
      snaps: await Promise.all(snaps.map(async (s) => ({ ...s, children: await rbd.children(image, s.name) }))),
    };
  }
  return state;
}

describe('StorageSteps.clone', () => {
  it('run clones parent@snap into the child', async () => {
    await steps.clone('src', S, 'child').run();
    expect(await rbd.parentOf('child')).toEqual({ pool: 'bmi', image: 'src', snapshot: S });
  });

  it('undo removes the child, and the BMI snapshot it may carry, so the parent can be unprotected again', async () => {
    const step = steps.clone('src', S, 'child');
    await step.run();
    await rbd.createSnapshot('child', S);
    await rbd.protectSnapshot('child', S);
    await undo(step);
    expect(await rbd.imageExists('child')).toBe(false);
    expect(await rbd.children('src', S)).toEqual([]);
  });

  it('undo of a clone that never happened is a no-op', async () => {
    const before = await poolState();
    await undo(steps.clone('src', S, 'child'));
    expect(await poolState()).toEqual(before);
  });

  it('undo removes a clone a crash left half made (an image without its parent)', async () => {
    await rbd.createImage('child', 1024);
    await undo(steps.clone('src', S, 'child'));
    expect(await rbd.imageExists('child')).toBe(false);
  });

  it('names the step after the images when the names are known', () => {
    expect(steps.clone('src', S, 'child').name).toBe(`clone src@${S} to child`);
  });
});

describe('StorageSteps.clone marks what BMI makes', () => {
  const journaled = (id: string): JournaledOperation => ({
    id,
    progress: () => undefined,
    started: async () => 0,
    update: async () => undefined,
    atomically: () => Promise.reject(new Error('not used')),
    end: async () => undefined,
    handOver: async () => undefined,
  });

  it('the clone carries this BMI uid, the journaled operation and its source, over the marks of its parent', async () => {
    await rbd.setMetadata('src', { [MARK_KEYS.uid]: 'other', [MARK_KEYS.operation]: 'op-0', keep: 'x' });
    await runSaga('create_disk', [steps.clone('src', S, 'child')], journaled('op-7'));
    expect(await rbd.getMetadata('child')).toEqual({
      [MARK_KEYS.uid]: '5',
      [MARK_KEYS.operation]: 'op-7',
      [MARK_KEYS.source]: `src@${S}`,
      keep: 'x',
    });
  });

  it('outside a journaled operation the operation mark is empty', async () => {
    await steps.clone('src', S, 'child').run();
    expect((await rbd.getMetadata('child'))[MARK_KEYS.operation]).toBe('');
  });

  it('with mark: false (a raw image handed out) the marks copied from the parent are removed, others kept', async () => {
    await rbd.setMetadata('src', { [MARK_KEYS.uid]: '5', [MARK_KEYS.source]: 'x@y', keep: 'x' });
    await steps.clone('src', S, 'raw', { mark: false }).run();
    expect(await rbd.getMetadata('raw')).toEqual({ keep: 'x' });
  });

  it('a clone that cannot be marked is removed again, and the step fails', async () => {
    const before = await poolState();
    jest.spyOn(rbd, 'setMetadata').mockRejectedValueOnce(new RbdInvalidOperationError('metadata refused'));
    await expect(steps.clone('src', S, 'child').run()).rejects.toThrow('metadata refused');
    expect(await poolState()).toEqual(before);
  });
});

describe('StorageSteps.flatten', () => {
  it('run flattens; undo removes the image, as the undo of the clone it applies to does', async () => {
    await steps.clone('src', S, 'child').run();
    const step = steps.flatten('child');
    await step.run();
    expect(await rbd.parentOf('child')).toBeNull();
    await undo(step);
    expect(await rbd.imageExists('child')).toBe(false);
  });
});

describe('StorageSteps.protectedSnapshot', () => {
  it('run creates and protects image@<configured snapshot>', async () => {
    await steps.protectedSnapshot('plain').run();
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: S, protected: true }]);
  });

  it('takes another snapshot name when given one', async () => {
    await steps.protectedSnapshot('plain', 'other').run();
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: 'other', protected: true }]);
  });

  it('when protecting fails, removes the snapshot it created and rethrows', async () => {
    const boom = new Error('protect failed');
    jest.spyOn(rbd, 'protectSnapshot').mockRejectedValueOnce(boom);
    await expect(steps.protectedSnapshot('plain').run()).rejects.toBe(boom);
    expect(await rbd.listSnapshots('plain')).toEqual([]);
  });

  it('fails with RbdImageExistsError when the snapshot is already there, and leaves it', async () => {
    await expect(steps.protectedSnapshot('src').run()).rejects.toThrow(`${S} Already Exists`);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('undo unprotects and removes it', async () => {
    const step = steps.protectedSnapshot('plain');
    await step.run();
    await undo(step);
    expect(await rbd.listSnapshots('plain')).toEqual([]);
    await rbd.removeImage('plain');
  });

  it('undo tolerates a snapshot or image that is gone', async () => {
    const step = steps.protectedSnapshot('plain');
    await undo(step);
    await rbd.removeImage('plain');
    await expect(undo(step)).resolves.toBeUndefined();
  });

  it('undo fails loudly when the snapshot has clones (it must not be dropped from under them)', async () => {
    const step = steps.protectedSnapshot('plain');
    await step.run();
    await rbd.clone('plain', S, 'child');
    await expect(undo(step)).rejects.toThrow(RbdImageBusyError);
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: S, protected: true }]);
  });
});

describe('StorageSteps.dropSnapshot', () => {
  it('run unprotects and removes the snapshot; undo puts it back, protected', async () => {
    const step = (await steps.dropSnapshot('src'))!;
    await step.run();
    expect(await rbd.listSnapshots('src')).toEqual([]);
    await undo(step);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('removes an unprotected snapshot too', async () => {
    await rbd.createSnapshot('plain', S);
    await (await steps.dropSnapshot('plain'))!.run();
    expect(await rbd.listSnapshots('plain')).toEqual([]);
  });

  it('undo is idempotent: a snapshot put back already, or left unprotected, ends protected', async () => {
    const step = (await steps.dropSnapshot('src'))!;
    await step.run();
    await undo(step);
    await undo(step);
    await rbd.unprotectSnapshot('src', S);
    await undo(step);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('a snapshot that is not there gives no step (so nothing is made by an undo)', async () => {
    expect(await steps.dropSnapshot('plain')).toBeNull();
    expect(await steps.dropSnapshot('nope')).toBeNull();
  });

  it('a failed removal leaves the snapshot protected, and the failed step needs no undo', async () => {
    jest.spyOn(rbd, 'removeSnapshot').mockRejectedValueOnce(new Error('osd down'));
    await expect(runSaga('drop', [(await steps.dropSnapshot('src'))!])).rejects.toThrow('osd down');
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('refuses while the snapshot has clones, leaving it protected', async () => {
    await rbd.clone('src', S, 'child');
    await expect((await steps.dropSnapshot('src'))!.run()).rejects.toThrow(RbdImageBusyError);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });
});

describe('StorageSteps.protect / unprotect', () => {
  it('protect: run protects, undo unprotects', async () => {
    await rbd.createSnapshot('plain', 'user_snap');
    const step = steps.protect('plain', 'user_snap');
    await step.run();
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: 'user_snap', protected: true }]);
    await undo(step);
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: 'user_snap', protected: false }]);
  });

  it('unprotect: run unprotects, undo protects again', async () => {
    const step = steps.unprotect('src', S);
    await step.run();
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: false }]);
    await undo(step);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('protect of an already protected snapshot fails (Ceph refuses it)', async () => {
    await expect(steps.protect('src', S).run()).rejects.toThrow(RbdInvalidOperationError);
  });
});

describe('StorageSteps.removeImage', () => {
  it('removes the image with its BMI snapshot; no undo, and its redo (recovery) removes it too', async () => {
    const step = steps.removeImage('src');
    expect(step.undo).toBeUndefined();
    expect(step.redo).toEqual({ type: 'rbd.remove', args: { image: 'src' } });
    await actions.run(step.redo!);
    expect(await rbd.imageExists('src')).toBe(false);
    await step.run();
  });

  it('an image that is already gone counts as removed', async () => {
    await expect(steps.removeImage('nope').run()).resolves.toBeUndefined();
  });

  it('refuses an image that carries other snapshots', async () => {
    await rbd.createSnapshot('src', 'user_snap');
    await expect(steps.removeImage('src').run()).rejects.toThrow(RbdImageHasSnapshotsError);
    expect(await rbd.imageExists('src')).toBe(true);
  });

  it('an image without snapshots is removed with one call: nothing is looked up first', async () => {
    const listed = jest.spyOn(rbd, 'listSnapshots');
    const removed = jest.spyOn(rbd, 'removeImage');
    await steps.removeImage('plain').run();
    expect(listed).not.toHaveBeenCalled();
    expect(removed).toHaveBeenCalledTimes(1);
    expect(await rbd.imageExists('plain')).toBe(false);
  });
});

describe('StorageSteps.sealedCopy', () => {
  it('clone, flatten, protect: an independent image carrying the protected BMI snapshot', async () => {
    const copy = steps.sealedCopy('src', S, 'copy');
    expect(copy.map((s) => s.name)).toEqual([
      `clone src@${S} to copy`,
      'flatten copy',
      `create protected snapshot copy@${S}`,
    ]);
    await runSaga('copy', copy);
    expect(await rbd.parentOf('copy')).toBeNull();
    expect(await rbd.listSnapshots('copy')).toEqual([{ name: S, protected: true }]);
    expect(await rbd.children('src', S)).toEqual([]);
  });

  it.each(['clone', 'flatten', 'protectSnapshot'] as const)(
    'a failure at %s leaves the pool as it was',
    async (method) => {
      const before = await poolState();
      const boom = new Error(`${method} failed`);
      jest.spyOn(rbd, method).mockRejectedValueOnce(boom);
      await expect(runSaga('copy', steps.sealedCopy('src', S, 'copy'))).rejects.toBe(boom);
      expect(await poolState()).toEqual(before);
    },
  );
});

describe('StorageSteps.removeSnapshotIfExists', () => {
  it('false when the image is missing', async () => {
    expect(await steps.removeSnapshotIfExists('nope', S)).toBe(false);
  });

  it('false when the snapshot is missing', async () => {
    expect(await steps.removeSnapshotIfExists('plain', S)).toBe(false);
  });

  it('true after unprotecting and removing a protected snapshot', async () => {
    expect(await steps.removeSnapshotIfExists('src', S)).toBe(true);
    expect(await rbd.listSnapshots('src')).toEqual([]);
  });

  it('true after removing an unprotected snapshot', async () => {
    await rbd.createSnapshot('plain', 'x');
    expect(await steps.removeSnapshotIfExists('plain', 'x')).toBe(true);
    expect(await rbd.listSnapshots('plain')).toEqual([]);
  });

  it('when the removal fails after unprotecting, protects the snapshot again and rethrows', async () => {
    const outage = new Error('osd down');
    jest.spyOn(rbd, 'removeSnapshot').mockRejectedValueOnce(outage);
    await expect(steps.removeSnapshotIfExists('src', S)).rejects.toBe(outage);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
  });

  it('when the removal of an unprotected snapshot fails, leaves it unprotected', async () => {
    await rbd.createSnapshot('plain', 'x');
    jest.spyOn(rbd, 'removeSnapshot').mockRejectedValueOnce(new Error('osd down'));
    await expect(steps.removeSnapshotIfExists('plain', 'x')).rejects.toThrow('osd down');
    expect(await rbd.listSnapshots('plain')).toEqual([{ name: 'x', protected: false }]);
  });

  it('rethrows errors other than not-found', async () => {
    const outage = new Error('connection lost');
    jest.spyOn(rbd, 'listSnapshots').mockRejectedValueOnce(outage);
    await expect(steps.removeSnapshotIfExists('src', S)).rejects.toBe(outage);
  });
});

describe('StorageSteps.removeImageIfExists', () => {
  it('false when there is no image', async () => {
    expect(await steps.removeImageIfExists('nope')).toBe(false);
  });

  it('true after removing the BMI snapshot and the image', async () => {
    expect(await steps.removeImageIfExists('src')).toBe(true);
    expect(await rbd.listImages()).toEqual(['plain']);
  });

  it('false when the image vanishes before the removal', async () => {
    jest.spyOn(rbd, 'removeImage').mockRejectedValueOnce(RbdImageNotFoundError.of('plain'));
    expect(await steps.removeImageIfExists('plain')).toBe(false);
  });

  it('rethrows other removal errors', async () => {
    const outage = new Error('osd down');
    jest.spyOn(rbd, 'removeImage').mockRejectedValueOnce(outage);
    await expect(steps.removeImageIfExists('plain')).rejects.toBe(outage);
  });

  it('refuses an image with a clone of its BMI snapshot, leaving both', async () => {
    await rbd.clone('src', S, 'child');
    await expect(steps.removeImageIfExists('src')).rejects.toThrow(RbdImageBusyError);
    expect(await rbd.listSnapshots('src')).toEqual([{ name: S, protected: true }]);
    expect(await rbd.imageExists('child')).toBe(true);
  });
});
