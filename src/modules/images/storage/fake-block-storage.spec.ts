import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FakeBlockStorage } from './fake-block-storage';
import {
  RbdImageBusyError,
  RbdImageExistsError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdInvalidOperationError,
  RbdSnapshotBusyError,
} from './storage.errors';

const MiB = 1 << 20;

let rbd: FakeBlockStorage;
beforeEach(() => {
  rbd = new FakeBlockStorage('bmi-pool', [{ image: 'golden', sizeBytes: 10 * MiB }, { image: 'other' }]);
});

/** golden@snap, protected: the state every clone starts from. */
async function protectedSnap(image = 'golden', snap = 'snap'): Promise<void> {
  await rbd.createSnapshot(image, snap);
  await rbd.protectSnapshot(image, snap);
}

describe('FakeBlockStorage: images', () => {
  it('starts with the seed, listed in name order, with the given size or 1 GiB', async () => {
    expect(await rbd.listImages()).toEqual(['golden', 'other']);
    expect(await rbd.imageSize('golden')).toBe(10 * MiB);
    expect(await rbd.imageSize('other')).toBe(1 << 30);
  });

  it('an empty pool has no images', async () => {
    expect(await new FakeBlockStorage().listImages()).toEqual([]);
  });

  it('createImage adds an image that exists and is listed (test_ceph TestCreateImage)', async () => {
    await rbd.createImage('BMI_TEST_CEPH', 1024);
    expect(await rbd.imageExists('BMI_TEST_CEPH')).toBe(true);
    expect(await rbd.listImages()).toContain('BMI_TEST_CEPH');
    expect(await rbd.imageSize('BMI_TEST_CEPH')).toBe(1024);
    expect(await rbd.listSnapshots('BMI_TEST_CEPH')).toEqual([]);
    expect(await rbd.parentOf('BMI_TEST_CEPH')).toBeNull();
  });

  it('creating an image that exists is refused with RbdImageExistsError', async () => {
    await expect(rbd.createImage('golden', 1)).rejects.toThrow(RbdImageExistsError);
    await expect(rbd.createImage('golden', 1)).rejects.toThrow('golden Already Exists');
    expect(await rbd.imageSize('golden')).toBe(10 * MiB);
  });

  it('removeImage takes it out of the listing (test_ceph TestRemoveImage)', async () => {
    await rbd.createImage('BMI_TEST_CEPH', 1024);
    await rbd.removeImage('BMI_TEST_CEPH');
    expect(await rbd.imageExists('BMI_TEST_CEPH')).toBe(false);
    expect(await rbd.listImages()).toEqual(['golden', 'other']);
  });

  it.each([
    ['removeImage', (s: FakeBlockStorage) => s.removeImage('nope')],
    ['imageSize', (s: FakeBlockStorage) => s.imageSize('nope')],
    ['listSnapshots', (s: FakeBlockStorage) => s.listSnapshots('nope')],
    ['createSnapshot', (s: FakeBlockStorage) => s.createSnapshot('nope', 'snap')],
    ['flatten', (s: FakeBlockStorage) => s.flatten('nope')],
    ['parentOf', (s: FakeBlockStorage) => s.parentOf('nope')],
  ])('%s of a missing image is RbdImageNotFoundError "<name> Not Found"', async (_, call) => {
    const err = await call(rbd).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RbdImageNotFoundError);
    expect((err as Error).message).toBe('nope Not Found');
    expect((err as RbdImageNotFoundError).status).toBe(404);
  });

  it('imageExists of a missing image is false, not an error', async () => {
    expect(await rbd.imageExists('nope')).toBe(false);
  });

  it('removing an image that has snapshots is refused with RbdImageHasSnapshotsError (test_ceph TestSnapshot)', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await expect(rbd.removeImage('golden')).rejects.toThrow(RbdImageHasSnapshotsError);
    await expect(rbd.removeImage('golden')).rejects.toThrow('golden has Snapshots');
    expect(await rbd.imageExists('golden')).toBe(true);
  });
});

describe('FakeBlockStorage: snapshots', () => {
  it('createSnapshot lists it, unprotected (test_ceph TestSnapshot)', async () => {
    await rbd.createSnapshot('golden', 'BMI_TEST_CEPH_SNAP');
    expect(await rbd.listSnapshots('golden')).toEqual([{ name: 'BMI_TEST_CEPH_SNAP', protected: false }]);
  });

  it('creating the same snapshot again is RbdImageExistsError', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await expect(rbd.createSnapshot('golden', 'snap')).rejects.toThrow(RbdImageExistsError);
    await expect(rbd.createSnapshot('golden', 'snap')).rejects.toThrow('snap Already Exists');
  });

  it('the same snapshot name on two images is two snapshots', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await rbd.createSnapshot('other', 'snap');
    await rbd.protectSnapshot('golden', 'snap');
    expect(await rbd.listSnapshots('other')).toEqual([{ name: 'snap', protected: false }]);
  });

  it('protect, then unprotect, shows in the listing (is_snap_protected)', async () => {
    await protectedSnap();
    expect(await rbd.listSnapshots('golden')).toEqual([{ name: 'snap', protected: true }]);
    await rbd.unprotectSnapshot('golden', 'snap');
    expect(await rbd.listSnapshots('golden')).toEqual([{ name: 'snap', protected: false }]);
  });

  it('removing a protected snapshot is RbdSnapshotBusyError and leaves it', async () => {
    await protectedSnap();
    await expect(rbd.removeSnapshot('golden', 'snap')).rejects.toThrow(RbdSnapshotBusyError);
    await expect(rbd.removeSnapshot('golden', 'snap')).rejects.toThrow('Snapshot snap is protected from removal');
    expect(await rbd.listSnapshots('golden')).toEqual([{ name: 'snap', protected: true }]);
  });

  it('an unprotected snapshot can be removed, and then the image can be removed', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await rbd.removeSnapshot('golden', 'snap');
    expect(await rbd.listSnapshots('golden')).toEqual([]);
    await rbd.removeImage('golden');
    expect(await rbd.imageExists('golden')).toBe(false);
  });

  it('protecting twice is RbdInvalidOperationError', async () => {
    await protectedSnap();
    await expect(rbd.protectSnapshot('golden', 'snap')).rejects.toThrow(RbdInvalidOperationError);
  });

  it('unprotecting an unprotected snapshot is RbdInvalidOperationError', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await expect(rbd.unprotectSnapshot('golden', 'snap')).rejects.toThrow(RbdInvalidOperationError);
  });

  it.each([
    ['removeSnapshot', (s: FakeBlockStorage) => s.removeSnapshot('golden', 'nosnap')],
    ['protectSnapshot', (s: FakeBlockStorage) => s.protectSnapshot('golden', 'nosnap')],
    ['unprotectSnapshot', (s: FakeBlockStorage) => s.unprotectSnapshot('golden', 'nosnap')],
    ['clone', (s: FakeBlockStorage) => s.clone('golden', 'nosnap', 'child')],
    ['children', (s: FakeBlockStorage) => s.children('golden', 'nosnap')],
  ])('%s of a missing snapshot is RbdImageNotFoundError naming image@snap', async (_, call) => {
    const err = await call(rbd).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RbdImageNotFoundError);
    expect((err as Error).message).toBe('golden@nosnap Not Found');
  });

  it('a snapshot of a missing image is RbdImageNotFoundError naming the image', async () => {
    await expect(rbd.protectSnapshot('nope', 'snap')).rejects.toThrow('nope Not Found');
  });
});

describe('FakeBlockStorage: clones', () => {
  it('clone from a protected snapshot makes a child with the parent’s size (test_ceph TestClone)', async () => {
    await protectedSnap();
    await rbd.clone('golden', 'snap', 'BMI_TEST_CEPH_CHILD_IMAGE');
    expect(await rbd.imageExists('BMI_TEST_CEPH_CHILD_IMAGE')).toBe(true);
    expect(await rbd.imageSize('BMI_TEST_CEPH_CHILD_IMAGE')).toBe(10 * MiB);
    expect(await rbd.children('golden', 'snap')).toEqual(['BMI_TEST_CEPH_CHILD_IMAGE']);
    expect(await rbd.parentOf('BMI_TEST_CEPH_CHILD_IMAGE')).toEqual({
      pool: 'bmi-pool',
      image: 'golden',
      snapshot: 'snap',
    });
  });

  it('the pool name defaults to bmi', async () => {
    const s = new FakeBlockStorage(undefined, [{ image: 'a' }]);
    await s.createSnapshot('a', 's');
    await s.protectSnapshot('a', 's');
    await s.clone('a', 's', 'b');
    expect((await s.parentOf('b'))?.pool).toBe('bmi');
  });

  it('children are listed in name order and a snapshot with none has []', async () => {
    await protectedSnap();
    expect(await rbd.children('golden', 'snap')).toEqual([]);
    await rbd.clone('golden', 'snap', 'c2');
    await rbd.clone('golden', 'snap', 'c1');
    expect(await rbd.children('golden', 'snap')).toEqual(['c1', 'c2']);
  });

  it('cloning from an unprotected snapshot is RbdInvalidOperationError and creates nothing', async () => {
    await rbd.createSnapshot('golden', 'snap');
    await expect(rbd.clone('golden', 'snap', 'child')).rejects.toThrow(RbdInvalidOperationError);
    expect(await rbd.imageExists('child')).toBe(false);
    expect(await rbd.children('golden', 'snap')).toEqual([]);
  });

  it('cloning onto an existing name is RbdImageExistsError and leaves the existing image alone', async () => {
    await protectedSnap();
    await expect(rbd.clone('golden', 'snap', 'other')).rejects.toThrow(RbdImageExistsError);
    expect(await rbd.parentOf('other')).toBeNull();
    expect(await rbd.children('golden', 'snap')).toEqual([]);
  });

  it('unprotecting a snapshot that has clones is RbdImageBusyError and it stays protected', async () => {
    await protectedSnap();
    await rbd.clone('golden', 'snap', 'child');
    await expect(rbd.unprotectSnapshot('golden', 'snap')).rejects.toThrow(RbdImageBusyError);
    await expect(rbd.unprotectSnapshot('golden', 'snap')).rejects.toThrow('golden is Busy (Could have Clones)');
    expect(await rbd.listSnapshots('golden')).toEqual([{ name: 'snap', protected: true }]);
  });

  it('flatten detaches the child: no parent, no longer a child, and the snapshot can be unprotected', async () => {
    await protectedSnap();
    await rbd.clone('golden', 'snap', 'child');
    await rbd.flatten('child');
    expect(await rbd.parentOf('child')).toBeNull();
    expect(await rbd.children('golden', 'snap')).toEqual([]);
    expect(await rbd.imageExists('child')).toBe(true);
    await rbd.unprotectSnapshot('golden', 'snap');
    await rbd.removeSnapshot('golden', 'snap');
    await rbd.removeImage('golden');
    expect(await rbd.listImages()).toEqual(['child', 'other']);
  });

  it('flatten of an image without a parent changes nothing', async () => {
    await rbd.flatten('golden');
    expect(await rbd.parentOf('golden')).toBeNull();
    expect(await rbd.imageExists('golden')).toBe(true);
  });

  it('removing a clone takes it out of its parent’s children, after which the parent can be unprotected', async () => {
    await protectedSnap();
    await rbd.clone('golden', 'snap', 'c1');
    await rbd.clone('golden', 'snap', 'c2');
    await rbd.removeImage('c1');
    expect(await rbd.children('golden', 'snap')).toEqual(['c2']);
    await rbd.removeImage('c2');
    expect(await rbd.children('golden', 'snap')).toEqual([]);
    await rbd.unprotectSnapshot('golden', 'snap');
  });

  it('a clone can itself carry a protected snapshot and be cloned (a chain)', async () => {
    await protectedSnap();
    await rbd.clone('golden', 'snap', 'mid');
    await protectedSnap('mid', 'snap');
    await rbd.clone('mid', 'snap', 'leaf');
    expect(await rbd.parentOf('leaf')).toEqual({ pool: 'bmi-pool', image: 'mid', snapshot: 'snap' });
    await expect(rbd.removeImage('mid')).rejects.toThrow(RbdImageHasSnapshotsError);
  });

  it('clones of two snapshots of one image are tracked per snapshot', async () => {
    await protectedSnap('golden', 's1');
    await protectedSnap('golden', 's2');
    await rbd.clone('golden', 's1', 'a');
    await rbd.clone('golden', 's2', 'b');
    expect(await rbd.children('golden', 's1')).toEqual(['a']);
    expect(await rbd.children('golden', 's2')).toEqual(['b']);
    await rbd.removeImage('a');
    await rbd.unprotectSnapshot('golden', 's1');
    await expect(rbd.unprotectSnapshot('golden', 's2')).rejects.toThrow(RbdImageBusyError);
  });
});

describe('FakeBlockStorage with a state file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-fake-pool-'));
    file = path.join(dir, 'pool.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a second instance on the same file finds the images, snapshots, protection and clones of the first', async () => {
    const first = new FakeBlockStorage('bmi', [{ image: 'golden', sizeBytes: 10 * MiB }], file);
    await first.createSnapshot('golden', 'snap');
    await first.protectSnapshot('golden', 'snap');
    await first.clone('golden', 'snap', 'disk');
    await first.createSnapshot('golden', 'loose');

    const second = new FakeBlockStorage('bmi', [{ image: 'never-used' }], file);
    expect(await second.listImages()).toEqual(['disk', 'golden']);
    expect(await second.imageSize('disk')).toBe(10 * MiB);
    expect(await second.listSnapshots('golden')).toEqual([
      { name: 'snap', protected: true },
      { name: 'loose', protected: false },
    ]);
    expect(await second.parentOf('disk')).toEqual({ pool: 'bmi', image: 'golden', snapshot: 'snap' });
    expect(await second.children('golden', 'snap')).toEqual(['disk']);
    // the rules hold on what was read back: a parent with a clone stays protected
    await expect(second.unprotectSnapshot('golden', 'snap')).rejects.toThrow(RbdImageBusyError);
    await second.removeImage('disk');
    await second.unprotectSnapshot('golden', 'snap');
    expect(await new FakeBlockStorage('bmi', [], file).children('golden', 'snap')).toEqual([]);
  });

  it('the seed fills only a pool that has no file yet; a failed call writes nothing', async () => {
    const first = new FakeBlockStorage('bmi', [{ image: 'a' }], file);
    expect(existsSync(file)).toBe(true);
    const before = readFileSync(file, 'utf8');
    await expect(first.removeImage('missing')).rejects.toThrow(RbdImageNotFoundError);
    await expect(first.createImage('a', MiB)).rejects.toThrow(RbdImageExistsError);
    expect(readFileSync(file, 'utf8')).toBe(before);
    await first.removeImage('a');
    expect(await new FakeBlockStorage('bmi', [{ image: 'a' }, { image: 'b' }], file).listImages()).toEqual([]);
    // written whole and renamed into place: no temporary file stays behind
    expect(readdirSync(dir)).toEqual(['pool.json']);
  });

  it('keeps metadata in the file, a "__proto__" key too; a file written before metadata existed reads as none', async () => {
    const first = new FakeBlockStorage('bmi', [{ image: 'golden' }], file);
    await first.setMetadata('golden', { 'bmi.owner': 'alice', ['__proto__']: 'plain' });
    await first.createSnapshot('golden', 'snap');
    await first.protectSnapshot('golden', 'snap');
    await first.clone('golden', 'snap', 'disk');
    await first.removeMetadata('disk', 'bmi.owner');
    await first.setMetadata('disk', { 'bmi.node': 'n1' });

    const second = new FakeBlockStorage('bmi', [], file);
    expect(Object.entries(await second.getMetadata('golden'))).toEqual([
      ['__proto__', 'plain'],
      ['bmi.owner', 'alice'],
    ]);
    expect(await second.getMetadata('disk')).toEqual({ ['__proto__']: 'plain', 'bmi.node': 'n1' });

    // the format before metadata: images without a `metadata` field
    const old = JSON.parse(readFileSync(file, 'utf8')) as { images: Record<string, unknown>[] };
    for (const image of old.images) delete image.metadata;
    writeFileSync(file, JSON.stringify(old));
    const third = new FakeBlockStorage('bmi', [], file);
    expect(await third.getMetadata('golden')).toEqual({});
    expect(await third.parentOf('disk')).toEqual({ pool: 'bmi', image: 'golden', snapshot: 'snap' });
    await third.setMetadata('disk', { 'bmi.node': 'n2' });
    expect(await new FakeBlockStorage('bmi', [], file).getMetadata('disk')).toEqual({ 'bmi.node': 'n2' });
  });

  it('a refused or empty metadata change writes nothing', async () => {
    const first = new FakeBlockStorage('bmi', [{ image: 'a' }], file);
    const before = readFileSync(file, 'utf8');
    await expect(first.setMetadata('a', { ok: '1', conf_rbd_cache: 'false' })).rejects.toThrow(
      RbdInvalidOperationError,
    );
    await expect(first.setMetadata('missing', { k: 'v' })).rejects.toThrow(RbdImageNotFoundError);
    await first.setMetadata('a', {});
    await first.removeMetadata('a', 'never-set');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('without a state file nothing is written and every instance starts from its seed', async () => {
    const a = new FakeBlockStorage('bmi', [{ image: 'x' }]);
    await a.removeImage('x');
    expect(await new FakeBlockStorage('bmi', [{ image: 'x' }]).listImages()).toEqual(['x']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
