import { randomBytes } from 'node:crypto';
import { BlockStorage } from './block-storage';
import {
  RbdImageBusyError,
  RbdImageExistsError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdInvalidOperationError,
  RbdSnapshotBusyError,
} from './storage.errors';

export interface ContractSubject {
  storage: BlockStorage;
  /** the pool `parentOf` reports */
  pool: string;
}

/**
 * The behaviour every BlockStorage must have: the rules of Ceph RBD (format 1 clones of protected snapshots)
 * as BMI relies on them, with the errors of storage.errors.ts. It runs against the in-memory fake and against
 * a real Ceph cluster; passing on both is what keeps the fake honest. Every test uses names of its own and
 * removes what it made, so that a shared cluster stays clean.
 */
export function describeBlockStorageContract(
  title: string,
  subject: () => Promise<ContractSubject>,
  release: () => Promise<void> = async () => undefined,
): void {
  describe(`BlockStorage contract: ${title}`, () => {
    let s: BlockStorage;
    let pool: string;
    let made: string[] = [];

    beforeAll(async () => {
      ({ storage: s, pool } = await subject());
    });
    afterAll(() => release());

    /** A fresh name for this test; removed (with its snapshots) afterwards. */
    const name = (what: string) => {
      const n = `ct-${what}-${randomBytes(4).toString('hex')}`;
      made.push(n);
      return n;
    };

    afterEach(async () => {
      // clones first (they hold their parents' snapshots), then everything else
      for (const image of [...made].reverse()) {
        if (!(await s.imageExists(image))) continue;
        for (const snap of await s.listSnapshots(image)) {
          for (const child of await s.children(image, snap.name)) await s.flatten(child);
          if (snap.protected) await s.unprotectSnapshot(image, snap.name);
          await s.removeSnapshot(image, snap.name);
        }
        await s.removeImage(image);
      }
      made = [];
    });

    const MiB = 1 << 20;

    /** An image with a protected snapshot `base`, ready to clone from. */
    async function golden(): Promise<string> {
      const g = name('golden');
      await s.createImage(g, 16 * MiB);
      await s.createSnapshot(g, 'base');
      await s.protectSnapshot(g, 'base');
      return g;
    }

    it('creates, lists, sizes and removes an image', async () => {
      const a = name('img');
      await s.createImage(a, 8 * MiB);
      expect(await s.imageExists(a)).toBe(true);
      expect(await s.listImages()).toContain(a);
      expect(await s.imageSize(a)).toBe(8 * MiB);
      await s.removeImage(a);
      expect(await s.imageExists(a)).toBe(false);
      expect(await s.listImages()).not.toContain(a);
    });

    it('refuses to create an image that exists', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await expect(s.createImage(a, MiB)).rejects.toBeInstanceOf(RbdImageExistsError);
    });

    it('reports a missing image as not found, for every call that names one', async () => {
      const ghost = `ct-ghost-${randomBytes(4).toString('hex')}`;
      expect(await s.imageExists(ghost)).toBe(false);
      await expect(s.removeImage(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.imageSize(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.listSnapshots(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.createSnapshot(ghost, 'x')).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.parentOf(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.flatten(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.clone(ghost, 'x', name('child'))).rejects.toBeInstanceOf(RbdImageNotFoundError);
    });

    it('reports a missing snapshot as not found', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await expect(s.removeSnapshot(a, 'nope')).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.protectSnapshot(a, 'nope')).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.unprotectSnapshot(a, 'nope')).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.children(a, 'nope')).rejects.toBeInstanceOf(RbdImageNotFoundError);
      await expect(s.clone(a, 'nope', name('child'))).rejects.toBeInstanceOf(RbdImageNotFoundError);
    });

    it('creates, lists, protects, unprotects and removes snapshots', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await s.createSnapshot(a, 'one');
      expect(await s.listSnapshots(a)).toEqual([{ name: 'one', protected: false }]);
      await expect(s.createSnapshot(a, 'one')).rejects.toBeInstanceOf(RbdImageExistsError);
      await s.protectSnapshot(a, 'one');
      expect(await s.listSnapshots(a)).toEqual([{ name: 'one', protected: true }]);
      await s.unprotectSnapshot(a, 'one');
      await s.removeSnapshot(a, 'one');
      expect(await s.listSnapshots(a)).toEqual([]);
    });

    it('refuses to protect twice and to unprotect an unprotected snapshot', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await s.createSnapshot(a, 'one');
      await expect(s.unprotectSnapshot(a, 'one')).rejects.toBeInstanceOf(RbdInvalidOperationError);
      await s.protectSnapshot(a, 'one');
      await expect(s.protectSnapshot(a, 'one')).rejects.toBeInstanceOf(RbdInvalidOperationError);
    });

    it('refuses to remove a protected snapshot, and an image that has snapshots', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await s.createSnapshot(a, 'one');
      await expect(s.removeImage(a)).rejects.toBeInstanceOf(RbdImageHasSnapshotsError);
      await s.protectSnapshot(a, 'one');
      await expect(s.removeSnapshot(a, 'one')).rejects.toBeInstanceOf(RbdSnapshotBusyError);
      expect(await s.imageExists(a)).toBe(true);
    });

    it('clones a protected snapshot; the child knows its parent and the parent its child', async () => {
      const g = await golden();
      const c = name('clone');
      await s.clone(g, 'base', c);
      expect(await s.parentOf(c)).toEqual({ pool, image: g, snapshot: 'base' });
      expect(await s.children(g, 'base')).toEqual([c]);
      expect(await s.imageSize(c)).toBe(16 * MiB);
      expect(await s.parentOf(g)).toBeNull();
    });

    it('refuses to clone an unprotected snapshot, and into a name that exists', async () => {
      const a = name('img');
      await s.createImage(a, MiB);
      await s.createSnapshot(a, 'raw');
      await expect(s.clone(a, 'raw', name('clone'))).rejects.toBeInstanceOf(RbdInvalidOperationError);
      const g = await golden();
      await expect(s.clone(g, 'base', a)).rejects.toBeInstanceOf(RbdImageExistsError);
    });

    it('refuses to unprotect a snapshot that has clones', async () => {
      const g = await golden();
      await s.clone(g, 'base', name('clone'));
      await expect(s.unprotectSnapshot(g, 'base')).rejects.toBeInstanceOf(RbdImageBusyError);
    });

    it('flatten detaches a clone from its parent, which can then be unprotected', async () => {
      const g = await golden();
      const c = name('clone');
      await s.clone(g, 'base', c);
      await s.flatten(c);
      expect(await s.parentOf(c)).toBeNull();
      expect(await s.children(g, 'base')).toEqual([]);
      await s.unprotectSnapshot(g, 'base');
      await s.flatten(c); // an image without a parent: nothing to do
      expect(await s.parentOf(c)).toBeNull();
    });

    it('removing a clone takes it off its parent', async () => {
      const g = await golden();
      const c1 = name('clone');
      const c2 = name('clone');
      await s.clone(g, 'base', c1);
      await s.clone(g, 'base', c2);
      expect(await s.children(g, 'base')).toEqual([c1, c2].sort());
      await s.removeImage(c1);
      expect(await s.children(g, 'base')).toEqual([c2]);
    });

    describe('image metadata', () => {
      it('sets, overwrites, lists and removes keys; other keys stay; removing a missing key is fine', async () => {
        const a = name('img');
        await s.createImage(a, MiB);
        expect(await s.getMetadata(a)).toEqual({});
        // ['__proto__'] (computed) is an own key; a plain __proto__: in a literal would set the prototype
        await s.setMetadata(a, { 'bmi.owner': 'alice', 'bmi.note': '', ['__proto__']: 'a plain key' });
        await s.setMetadata(a, { 'bmi.owner': 'bob', 'bmi.project': 'p1' });
        const listed = await s.getMetadata(a);
        expect(listed).toEqual({
          'bmi.owner': 'bob',
          'bmi.note': '',
          'bmi.project': 'p1',
          ['__proto__']: 'a plain key',
        });
        expect(Object.getPrototypeOf(listed)).toBe(Object.prototype);
        await s.removeMetadata(a, 'bmi.note');
        await s.removeMetadata(a, 'bmi.note');
        await s.removeMetadata(a, 'never-set');
        await s.setMetadata(a, {});
        expect(Object.keys(await s.getMetadata(a)).sort()).toEqual(['__proto__', 'bmi.owner', 'bmi.project']);
      });

      it('reports a missing image as not found, for every metadata call', async () => {
        const ghost = `ct-ghost-${randomBytes(4).toString('hex')}`;
        await expect(s.getMetadata(ghost)).rejects.toBeInstanceOf(RbdImageNotFoundError);
        await expect(s.setMetadata(ghost, { k: 'v' })).rejects.toBeInstanceOf(RbdImageNotFoundError);
        await expect(s.setMetadata(ghost, {})).rejects.toBeInstanceOf(RbdImageNotFoundError);
        await expect(s.removeMetadata(ghost, 'k')).rejects.toBeInstanceOf(RbdImageNotFoundError);
        expect(await s.imageExists(ghost)).toBe(false);
      });

      it.each([
        ['an empty key', { '': 'v' }],
        ['a key with NUL', { 'a\0b': 'v' }],
        ['a librbd setting (conf_)', { conf_rbd_cache: 'false' }],
        ['a value with NUL', { k: 'v\0w' }],
        ['a value that is no string', { k: 1 as unknown as string }],
      ])('refuses %s and writes none of the entries', async (_what, bad) => {
        const a = name('img');
        await s.createImage(a, MiB);
        await expect(s.setMetadata(a, { 'bmi.first': 'ok', ...bad })).rejects.toBeInstanceOf(RbdInvalidOperationError);
        expect(await s.getMetadata(a)).toEqual({});
      });

      it('refuses to remove an invalid key', async () => {
        const a = name('img');
        await s.createImage(a, MiB);
        await expect(s.removeMetadata(a, '')).rejects.toBeInstanceOf(RbdInvalidOperationError);
        await expect(s.removeMetadata(a, 'conf_rbd_cache')).rejects.toBeInstanceOf(RbdInvalidOperationError);
      });

      it('a clone starts with a copy of its parent image’s metadata as it is at clone time; flatten keeps it', async () => {
        const g = name('golden');
        await s.createImage(g, 16 * MiB);
        await s.setMetadata(g, { 'bmi.owner': 'alice' });
        await s.createSnapshot(g, 'base');
        await s.setMetadata(g, { 'bmi.after-snapshot': 'yes' }); // the image's metadata counts, not the snapshot's
        await s.protectSnapshot(g, 'base');
        const c = name('clone');
        await s.clone(g, 'base', c);
        const inherited = { 'bmi.owner': 'alice', 'bmi.after-snapshot': 'yes' };
        expect(await s.getMetadata(c)).toEqual(inherited);

        // a copy: changes on either side stay there
        await s.setMetadata(g, { 'bmi.owner': 'bob' });
        await s.setMetadata(c, { 'bmi.disk': 'c' });
        await s.removeMetadata(c, 'bmi.after-snapshot');
        expect(await s.getMetadata(c)).toEqual({ 'bmi.owner': 'alice', 'bmi.disk': 'c' });
        expect(await s.getMetadata(g)).toEqual({ 'bmi.owner': 'bob', 'bmi.after-snapshot': 'yes' });

        await s.flatten(c);
        expect(await s.getMetadata(c)).toEqual({ 'bmi.owner': 'alice', 'bmi.disk': 'c' });
      });

      it('a removed image takes its metadata along: the same name created again has none', async () => {
        const a = name('img');
        await s.createImage(a, MiB);
        await s.setMetadata(a, { 'bmi.owner': 'alice' });
        await s.removeImage(a);
        await s.createImage(a, MiB);
        expect(await s.getMetadata(a)).toEqual({});
      });
    });

    it('serves many calls at once', async () => {
      const g = await golden();
      const clones = Array.from({ length: 8 }, () => name('clone'));
      await Promise.all(clones.map((c) => s.clone(g, 'base', c)));
      expect(await s.children(g, 'base')).toEqual([...clones].sort());
      await Promise.all(clones.map((c) => s.removeImage(c)));
      expect(await s.children(g, 'base')).toEqual([]);
    });
  });
}
