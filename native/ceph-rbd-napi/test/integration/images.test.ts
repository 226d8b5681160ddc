import { randomBytes } from 'node:crypto';

import { Features, RbdError, type Cluster, type IoCtx } from '../../src-ts';
import { connectTo, describeCeph, namer, purge } from './ceph-env';

jest.setTimeout(60_000);

const MiB = 1 << 20;

describeCeph('images, snapshots and clones (real Ceph)', (env) => {
  const name = namer('img');
  const prefix = name('');
  let cluster: Cluster;
  let io: IoCtx;

  beforeAll(async () => {
    cluster = await connectTo(env);
    io = await cluster.openPool(env.pool);
  });

  afterAll(async () => {
    if (!io) return;
    const left = await purge(io, prefix);
    await io.close();
    await cluster.close();
    expect(left).toEqual([]);
  });

  /** An image with a protected snapshot, the shape BMI's golden images have. */
  async function golden(image: string, snap = 'base', sizeBytes = 64 * MiB): Promise<void> {
    await io.create(image, sizeBytes);
    await io.snapCreate(image, snap);
    await io.snapProtect(image, snap);
  }

  describe('create, list, stat, rename, remove', () => {
    it('creates an image that stat and listImages see', async () => {
      const img = name('plain');
      await io.create(img, 64 * MiB);
      expect(await io.listImages()).toContain(img);
      expect(await io.stat(img)).toEqual({ size: 64 * MiB, objectSize: 4 * MiB, numObjects: 16, order: 22 });
    });

    it('honours order and features', async () => {
      const img = name('order20');
      await io.create(img, 10 * MiB, { order: 20, features: Features.LAYERING });
      expect(await io.stat(img)).toEqual({ size: 10 * MiB, objectSize: MiB, numObjects: 10, order: 20 });
    });

    it('refuses to create an existing image: EEXIST from rbd_create4', async () => {
      const img = name('dup');
      await io.create(img, MiB);
      await expect(io.create(img, MiB)).rejects.toMatchObject({
        constructor: RbdError,
        code: 'EEXIST',
        errno: 17,
        op: 'rbd_create4',
        target: `${env.pool}/${img}`,
        message: `rbd_create4 failed: File exists (EEXIST) [${env.pool}/${img}]`,
      });
    });

    it('renames, and refuses to rename onto an existing name (EEXIST) or a missing source (ENOENT)', async () => {
      const [a, b, c] = [name('ren-a'), name('ren-b'), name('ren-c')];
      await io.create(a, MiB);
      await io.create(c, MiB);
      await io.rename(a, b);
      const names = await io.listImages();
      expect(names).toContain(b);
      expect(names).not.toContain(a);
      await expect(io.rename(b, c)).rejects.toMatchObject({ code: 'EEXIST', op: 'rbd_rename' });
      await expect(io.rename(a, name('ren-x'))).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_rename' });
    });

    it('removes an image; removing it again is ENOENT; stat of a missing image is ENOENT from the open', async () => {
      const img = name('gone');
      await io.create(img, MiB);
      await io.remove(img);
      expect(await io.listImages()).not.toContain(img);
      await expect(io.remove(img)).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_remove' });
      await expect(io.stat(img)).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_open_read_only' });
    });
  });

  describe('snapshots', () => {
    it('creates, lists, protects, unprotects and removes a snapshot', async () => {
      const img = name('snaps');
      await io.create(img, 8 * MiB);
      await io.snapCreate(img, 's1');
      const [snap] = await io.snapList(img);
      expect(snap).toMatchObject({ name: 's1', size: 8 * MiB, namespace: 'user' });
      expect(snap.id).toBeGreaterThan(0);
      expect(await io.snapIsProtected(img, 's1')).toBe(false);
      await io.snapProtect(img, 's1');
      expect(await io.snapIsProtected(img, 's1')).toBe(true);
      await io.snapUnprotect(img, 's1');
      expect(await io.snapIsProtected(img, 's1')).toBe(false);
      await io.snapRemove(img, 's1');
      expect(await io.snapList(img)).toEqual([]);
    });

    it('reports the librbd codes of snapshot misuse', async () => {
      const img = name('snap-codes');
      await io.create(img, MiB);
      await io.snapCreate(img, 's');
      await expect(io.snapCreate(img, 's')).rejects.toMatchObject({ code: 'EEXIST', op: 'rbd_snap_create' });
      await expect(io.snapUnprotect(img, 's')).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_snap_unprotect' });
      await io.snapProtect(img, 's');
      await expect(io.snapProtect(img, 's')).rejects.toMatchObject({ code: 'EBUSY', op: 'rbd_snap_protect' });
      await expect(io.snapRemove(img, 'nope')).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_snap_remove' });
      await expect(io.snapIsProtected(img, 'nope')).rejects.toMatchObject({
        code: 'ENOENT',
        op: 'rbd_snap_is_protected',
      });
    });

    it('refuses to remove a protected snapshot: EBUSY', async () => {
      const img = name('snap-prot');
      await golden(img, 'base', MiB);
      await expect(io.snapRemove(img, 'base')).rejects.toMatchObject({
        constructor: RbdError,
        code: 'EBUSY',
        op: 'rbd_snap_remove',
        target: `${env.pool}/${img}@base`,
      });
      expect((await io.snapList(img)).map((s) => s.name)).toEqual(['base']);
    });

    it('refuses to remove an image that has snapshots: ENOTEMPTY', async () => {
      const img = name('has-snap');
      await io.create(img, MiB);
      await io.snapCreate(img, 's');
      await expect(io.remove(img)).rejects.toMatchObject({ code: 'ENOTEMPTY', errno: 39, op: 'rbd_remove' });
      expect(await io.listImages()).toContain(img);
    });
  });

  describe('clones', () => {
    it('clones (format 1) from a protected snapshot; parentInfo and children agree', async () => {
      const [parent, child] = [name('g1'), name('g1-c1')];
      await golden(parent);
      await io.clone(parent, 'base', child);
      expect(await io.parentInfo(child)).toEqual({ pool: env.pool, image: parent, snapshot: 'base' });
      expect(await io.parentInfo(parent)).toBeNull();
      expect(await io.children(parent, 'base')).toEqual([{ pool: env.pool, image: child, trash: false }]);
      expect((await io.stat(child)).size).toBe(64 * MiB);
    });

    it('refuses to unprotect a snapshot with clone children (EBUSY) or remove their parent (ENOTEMPTY)', async () => {
      const [parent, child] = [name('g2'), name('g2-c1')];
      await golden(parent);
      await io.clone(parent, 'base', child);
      await expect(io.snapUnprotect(parent, 'base')).rejects.toMatchObject({
        code: 'EBUSY',
        op: 'rbd_snap_unprotect',
      });
      await expect(io.remove(parent)).rejects.toMatchObject({ code: 'ENOTEMPTY', op: 'rbd_remove' });
      expect(await io.snapIsProtected(parent, 'base')).toBe(true);
      await io.remove(child);
      await io.snapUnprotect(parent, 'base');
      expect(await io.snapIsProtected(parent, 'base')).toBe(false);
    });

    it('refuses a format 1 clone of an unprotected snapshot: EINVAL', async () => {
      const parent = name('g3');
      await io.create(parent, MiB);
      await io.snapCreate(parent, 'base');
      await expect(io.clone(parent, 'base', name('g3-c1'))).rejects.toMatchObject({
        constructor: RbdError,
        code: 'EINVAL',
        op: 'rbd_clone3',
      });
      expect(await io.listImages()).not.toContain(name('g3-c1'));
    });

    it('clones format 2 from an unprotected snapshot; removing that snapshot moves it to the trash namespace', async () => {
      const [parent, child] = [name('g4'), name('g4-c2')];
      await io.create(parent, 4 * MiB);
      await io.snapCreate(parent, 'base');
      await io.clone(parent, 'base', child, { format: 2 });
      expect(await io.parentInfo(child)).toEqual({ pool: env.pool, image: parent, snapshot: 'base' });
      expect(await io.children(parent, 'base')).toEqual([{ pool: env.pool, image: child, trash: false }]);

      await io.snapRemove(parent, 'base'); // allowed with clone v2 children
      const snaps = await io.snapList(parent);
      expect(snaps).toHaveLength(1);
      expect(snaps[0].namespace).toBe('trash');
      expect(snaps[0].name).toMatch(/^[0-9a-f-]{36}$/);
      expect((await io.parentInfo(child))?.snapshot).toBe(snaps[0].name);
      await expect(io.remove(parent)).rejects.toMatchObject({ code: 'ENOTEMPTY', op: 'rbd_remove' });

      await io.remove(child); // the trashed snapshot goes with its last child
      expect(await io.snapList(parent)).toEqual([]);
    });

    it('reports missing parents and snapshots as ENOENT from rbd_clone3', async () => {
      const parent = name('g5');
      await golden(parent, 'base', MiB);
      await expect(io.clone(parent, 'nope', name('g5-x'))).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_clone3' });
      await expect(io.clone(name('nope'), 'base', name('g5-y'))).rejects.toMatchObject({
        code: 'ENOENT',
        op: 'rbd_clone3',
      });
      await io.clone(parent, 'base', name('g5-c'));
      await expect(io.clone(parent, 'base', name('g5-c'))).rejects.toMatchObject({ code: 'EEXIST', op: 'rbd_clone3' });
    });
  });

  describe('flatten', () => {
    it('copies the data, reports progress and detaches the clone from its parent', async () => {
      const [parent, child] = [name('g6'), name('g6-c1')];
      const objects = 64;
      await io.create(parent, objects * MiB, { order: 20 });
      const pattern = randomBytes(4096);
      const writer = await io.openImage(parent);
      await Promise.all(Array.from({ length: objects }, (_, i) => writer.write(i * MiB, pattern)));
      await writer.flush();
      await writer.close();
      await io.snapCreate(parent, 'base');
      await io.snapProtect(parent, 'base');
      await io.clone(parent, 'base', child);

      const progress: [number, number][] = [];
      await io.flatten(child, (done, total) => progress.push([done, total]));

      expect(progress.length).toBeGreaterThan(0);
      for (const [done, total] of progress) {
        expect(total).toBe(objects);
        expect(done).toBeLessThanOrEqual(total);
      }
      const dones = progress.map(([done]) => done);
      expect([...dones].sort((a, b) => a - b)).toEqual(dones); // never goes backwards
      expect(dones[dones.length - 1]).toBeGreaterThanOrEqual(objects - 1); // librbd ends at total - 1

      expect(await io.parentInfo(child)).toBeNull();
      expect(await io.children(parent, 'base')).toEqual([]);
      await io.snapUnprotect(parent, 'base'); // possible now: no children left
      await io.snapRemove(parent, 'base');
      const reader = await io.openImage(child, { readOnly: true });
      expect(await reader.read(37 * MiB, 4096)).toEqual(pattern);
      await reader.close();
    });

    it('refuses to flatten an image that has no parent: EINVAL', async () => {
      const img = name('flat-none');
      await io.create(img, MiB);
      await expect(io.flatten(img)).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_flatten' });
    });
  });

  describe('openImage: read and write', () => {
    it('round-trips data, reads short at the end, and rejects reads past the end (EINVAL)', async () => {
      const img = name('rw');
      await io.create(img, 8 * MiB);
      const image = await io.openImage(img);
      expect(image.name).toBe(img);
      expect(await image.size()).toBe(8 * MiB);
      const data = randomBytes(MiB + 123);
      expect(await image.write(3 * MiB + 7, data)).toBe(data.length);
      await image.flush();
      expect(await image.read(3 * MiB + 7, data.length)).toEqual(data);
      expect(await image.read(0, 16)).toEqual(Buffer.alloc(16)); // never written: zeros
      expect((await image.read(8 * MiB - 10, 100)).length).toBe(10);
      await expect(image.read(8 * MiB + 1, 1)).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_read' });
      await image.close();
    });

    it('opens read-only and at a snapshot: writes are EROFS, the snapshot shows old data', async () => {
      const img = name('ro');
      await io.create(img, MiB);
      const rw = await io.openImage(img);
      await rw.write(0, Buffer.from('before'));
      await rw.flush();
      await io.snapCreate(img, 'then'); // while open: librbd refreshes the handle
      await rw.write(0, Buffer.from('after!'));
      await rw.close();

      const atSnap = await io.openImage(img, { snapshot: 'then' });
      expect((await atSnap.read(0, 6)).toString()).toBe('before');
      await expect(atSnap.write(0, Buffer.from('x'))).rejects.toMatchObject({ code: 'EROFS', op: 'rbd_write' });
      await atSnap.close();

      const ro = await io.openImage(img, { readOnly: true });
      expect((await ro.read(0, 6)).toString()).toBe('after!');
      await expect(ro.write(0, Buffer.from('x'))).rejects.toMatchObject({ code: 'EROFS' });
      await ro.close();

      await expect(io.openImage(img, { snapshot: 'nope' })).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_open' });
    });
  });
});
