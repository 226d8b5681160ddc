import { Logger } from '@nestjs/common';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../../utils/test-app';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { ProjectNotFoundError } from '../../../src/modules/projects/projects.errors';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImageCatalog } from '../../../src/modules/images/image-catalog';
import {
  ImageExistsError,
  ImageHasClonesError,
  ImageInUseError,
  ImageNotFoundError,
  WrongImageKindError,
} from '../../../src/modules/images/images.errors';
import { ImagesService } from '../../../src/modules/images/images.service';
import { BlockStorage } from '../../../src/modules/images/storage/block-storage';
import {
  RbdImageBusyError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
} from '../../../src/modules/images/storage/storage.errors';
import { appState, failOn, rejection } from '../../utils/faults';

/**
 * ImagesService with its real collaborators: TypeORM on SQLite :memory: (the real migration), the in-memory
 * RBD pool, target table and HIL, boot files in a temp dir. Failures are injected into the fakes.
 */

const S = 'bmi_snapshot'; // [bmi] snapshot of the test app
// What the routes hand the service; who may call which route is test/e2e/authorization's subject.
let alice: ProjectScope;
let bob: ProjectScope;
let admin: ProjectScope;
let admin2: ProjectScope;

let t: TestApp;
let images: ImagesService;
let disks: DisksService;
let catalog: ImageCatalog;
let storage: BlockStorage;

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({ fakeImages: ['bmi_test', 'centos7'] });
  images = t.app.get(ImagesService);
  disks = t.app.get(DisksService);
  catalog = t.app.get(ImageCatalog);
  storage = t.storage;
  const projects = t.app.get(ProjectsService);
  await projects.add('proj1');
  await projects.add('proj2');
  alice = await t.scope(ALICE, 'proj1');
  bob = await t.scope(BOB, 'proj2');
  admin = await t.scope(ADMIN, 'proj1', 'admin');
  admin2 = await t.scope(ADMIN, 'proj2', 'admin');
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

const state = () => appState(t, async () => (await t.imageRows.find({ order: { id: 'ASC' } })).map((r) => ({ ...r })));

/** Imports bmi_test into proj1 as an admin; returns its row. */
async function importGolden(name = 'bmi_test', scope = admin) {
  await images.importImage(scope, name);
  return (await catalog.find(scope.project.id, name))!;
}

const row = async (project: string, name: string) =>
  catalog.find((await t.app.get(ProjectsService).require(project)).id, name);

describe('ImagesService.importImage', () => {
  it('makes <uid>img<id>: a flattened copy carrying the protected snapshot; the source is left as found', async () => {
    const golden = await importGolden();
    expect(golden).toMatchObject({ name: 'bmi_test', parentId: null, isSnapshot: false, isPublic: false });
    const ceph = `5img${golden.id}`;
    expect(await storage.parentOf(ceph)).toBeNull();
    expect(await storage.listSnapshots(ceph)).toEqual([{ name: S, protected: true }]);
    expect(await storage.listSnapshots('bmi_test')).toEqual([]);
    expect(await images.listImages(alice)).toEqual(['bmi_test']);
  });

  it.each([
    ['the temporary snapshot', () => failOn(storage, 'protectSnapshot', (i: string) => i === 'bmi_test')],
    ['the row', () => failOn(catalog, 'reserve')],
    ['the clone', () => failOn(storage, 'clone')],
    ['the flatten', () => failOn(storage, 'flatten')],
    ['the new image’s snapshot', () => failOn(storage, 'protectSnapshot', (i: string) => i.startsWith('5img'))],
    ['removing the temporary snapshot', () => failOn(storage, 'removeSnapshot', (i: string) => i === 'bmi_test')],
  ])('failing at %s leaves no row, no copy and the source without the temporary snapshot', async (_, inject) => {
    const before = await state();
    const boom = inject();
    await expect(images.importImage(admin, 'bmi_test')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
    expect(await storage.listSnapshots('bmi_test')).toEqual([]);
  });

  it('refuses a source that already has a snapshot named like the BMI snapshot (409), touching nothing', async () => {
    await storage.createSnapshot('centos7', S);
    const before = await state();
    const err = await rejection(images.importImage(admin, 'centos7'));
    expect(err.status).toBe(409);
    expect(err.message).toContain(`--snap ${S}`);
    expect(await state()).toEqual(before);
  });

  it('a missing source is 404', async () => {
    await expect(images.importImage(admin, 'nope')).rejects.toThrow(RbdImageNotFoundError);
  });

  it('a name already used in the project is 409', async () => {
    await importGolden();
    await expect(images.importImage(admin, 'bmi_test')).rejects.toThrow(ImageExistsError);
  });
});

describe('ImagesService.importSnapshot', () => {
  it('with protect: protects the snapshot for the clone and unprotects it afterwards', async () => {
    await storage.createSnapshot('centos7', 'v1');
    await images.importSnapshot(admin, 'centos7', 'v1', true);
    const r = (await row('proj1', 'centos7'))!;
    expect(await storage.listSnapshots(`5img${r.id}`)).toEqual([{ name: S, protected: true }]);
    expect(await storage.parentOf(`5img${r.id}`)).toBeNull();
    expect(await storage.listSnapshots('centos7')).toEqual([{ name: 'v1', protected: false }]);
  });

  it('a snapshot that is already protected stays protected', async () => {
    await storage.createSnapshot('centos7', 'v1');
    await storage.protectSnapshot('centos7', 'v1');
    await images.importSnapshot(admin, 'centos7', 'v1', false);
    expect(await storage.listSnapshots('centos7')).toEqual([{ name: 'v1', protected: true }]);
  });

  it('an unprotected snapshot without protect is 409', async () => {
    await storage.createSnapshot('centos7', 'v1');
    await expect(images.importSnapshot(admin, 'centos7', 'v1', false)).rejects.toMatchObject({ status: 409 });
  });

  it('a missing snapshot is 404', async () => {
    await expect(images.importSnapshot(admin, 'centos7', 'v1', true)).rejects.toThrow('centos7@v1 Not Found');
  });

  it.each([
    ['the clone', () => failOn(storage, 'clone')],
    ['the flatten', () => failOn(storage, 'flatten')],
    ['the final unprotect', () => failOn(storage, 'unprotectSnapshot', (i: string) => i === 'centos7')],
  ])('failing at %s leaves the source snapshot unprotected and nothing new', async (_, inject) => {
    await storage.createSnapshot('centos7', 'v1');
    const before = await state();
    const boom = inject();
    await expect(images.importSnapshot(admin, 'centos7', 'v1', true)).rejects.toBe(boom);
    expect(await state()).toEqual(before);
  });
});

describe('ImagesService.createSnapshot', () => {
  let golden: { id: number };
  let diskCeph: string;
  beforeEach(async () => {
    golden = await importGolden();
    diskCeph = await disks.createDisk(alice, 'disk1', 'bmi_test');
  });

  it('makes a snapshot row (parent = the disk’s image) and an independent sealed copy; the disk keeps no snapshot', async () => {
    await images.createSnapshot(alice, 'disk1', 'snap1');
    const snap = (await row('proj1', 'snap1'))!;
    expect(snap).toMatchObject({ isSnapshot: true, parentId: golden.id, isPublic: false });
    expect(await storage.parentOf(`5img${snap.id}`)).toBeNull();
    expect(await storage.listSnapshots(`5img${snap.id}`)).toEqual([{ name: S, protected: true }]);
    expect(await storage.listSnapshots(diskCeph)).toEqual([]);
    expect(await images.listSnapshots(alice)).toEqual([['snap1', 'bmi_test']]);
  });

  it('can be repeated on the same disk (no "Already Exists" trap, §8 #12)', async () => {
    await images.createSnapshot(alice, 'disk1', 'snap1');
    await images.createSnapshot(alice, 'disk1', 'snap2');
    expect((await images.listSnapshots(alice)).map(([n]) => n)).toEqual(['snap1', 'snap2']);
  });

  it.each([
    ['creating the disk snapshot', () => failOn(storage, 'createSnapshot', (i: string) => i === diskCeph)],
    ['protecting the disk snapshot', () => failOn(storage, 'protectSnapshot', (i: string) => i === diskCeph)],
    ['the row', () => failOn(catalog, 'reserve')],
    ['the clone', () => failOn(storage, 'clone')],
    ['the flatten', () => failOn(storage, 'flatten')],
    ['protecting the new image’s snapshot', () => failOn(storage, 'protectSnapshot', (i: string) => i !== diskCeph)],
    ['unprotecting the disk snapshot', () => failOn(storage, 'unprotectSnapshot', (i: string) => i === diskCeph)],
    ['removing the disk snapshot', () => failOn(storage, 'removeSnapshot', (i: string) => i === diskCeph)],
  ])('failing at %s leaves no snapshot on the disk, no new row and no new image (§8 #12)', async (_, inject) => {
    const before = await state();
    const boom = inject();
    await expect(images.createSnapshot(alice, 'disk1', 'snap1')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
    expect(await storage.listSnapshots(diskCeph)).toEqual([]);
    // and the next attempt works
    jest.restoreAllMocks();
    await images.createSnapshot(alice, 'disk1', 'snap1');
    expect(await row('proj1', 'snap1')).toMatchObject({ isSnapshot: true });
  });

  it('removes a BMI snapshot a crashed run left on the disk, when nothing was cloned from it', async () => {
    await storage.createSnapshot(diskCeph, S);
    await storage.protectSnapshot(diskCeph, S);
    await images.createSnapshot(alice, 'disk1', 'snap1');
    expect(await storage.listSnapshots(diskCeph)).toEqual([]);
  });

  it('refuses (409) when something was cloned from a leftover snapshot, touching nothing', async () => {
    await storage.createSnapshot(diskCeph, S);
    await storage.protectSnapshot(diskCeph, S);
    await storage.clone(diskCeph, S, 'someone-elses-clone');
    const before = await state();
    await expect(images.createSnapshot(alice, 'disk1', 'snap1')).rejects.toThrow(ImageInUseError);
    expect(await state()).toEqual(before);
  });

  it('a snapshot name already used in the project is 409, touching nothing', async () => {
    const before = await state();
    await expect(images.createSnapshot(alice, 'disk1', 'bmi_test')).rejects.toThrow(ImageExistsError);
    expect(await state()).toEqual(before);
  });

  it('an unknown disk is 404', async () => {
    await expect(images.createSnapshot(alice, 'nope', 'snap1')).rejects.toThrow(ImageNotFoundError);
  });

  it('refuses a golden image or a snapshot (not a disk) and leaves its BMI snapshot alone', async () => {
    await images.createSnapshot(alice, 'disk1', 'snap1');
    await disks.deleteDisk(alice, 'disk1');
    const before = await state();
    await expect(images.createSnapshot(alice, 'bmi_test', 'snap2')).rejects.toThrow(WrongImageKindError);
    await expect(images.createSnapshot(alice, 'snap1', 'snap3')).rejects.toThrow(WrongImageKindError);
    expect(await state()).toEqual(before);
    expect(await storage.listSnapshots(`5img${golden.id}`)).toEqual([{ name: S, protected: true }]);
  });
});

describe('ImagesService.removeImage', () => {
  it('removes the row and the Ceph image', async () => {
    const golden = await importGolden();
    await images.removeImage(alice, 'bmi_test');
    expect(await row('proj1', 'bmi_test')).toBeNull();
    expect(await storage.imageExists(`5img${golden.id}`)).toBe(false);
    expect(await images.listImages(alice)).toEqual([]);
  });

  it('refuses (409) BEFORE touching Ceph while disks made from it exist in the DB (§8 #8)', async () => {
    await importGolden();
    const diskCeph = await disks.createDisk(alice, 'disk1', 'bmi_test');
    // the original's trap: the DB still lists the disk, but its clone is gone from Ceph
    await t.iscsi.removeTarget(diskCeph);
    await storage.removeImage(diskCeph);
    const before = await state();
    const mutations = (['unprotectSnapshot', 'removeSnapshot', 'removeImage'] as const).map((m) =>
      jest.spyOn(storage, m),
    );
    const err = await rejection(images.removeImage(alice, 'bmi_test'));
    expect(err).toBeInstanceOf(ImageHasClonesError);
    expect(err.status).toBe(409);
    expect(err.message).toBe('bmi_test has clones, please deprovision before deleting');
    for (const m of mutations) expect(m).not.toHaveBeenCalled();
    expect(await state()).toEqual(before);
  });

  it('refuses (409) while the image is exported over iSCSI', async () => {
    await importGolden();
    await disks.mountImage(admin, 'bmi_test');
    const before = await state();
    await expect(images.removeImage(alice, 'bmi_test')).rejects.toThrow(ImageInUseError);
    expect(await state()).toEqual(before);
  });

  it('refuses (409) while Ceph holds other snapshots of it', async () => {
    const golden = await importGolden();
    await storage.createSnapshot(`5img${golden.id}`, 'by-hand');
    const before = await state();
    await expect(images.removeImage(alice, 'bmi_test')).rejects.toThrow(RbdImageHasSnapshotsError);
    expect(await state()).toEqual(before);
  });

  it('refuses (409) while Ceph holds clones of it that the DB does not know', async () => {
    const golden = await importGolden();
    await storage.clone(`5img${golden.id}`, S, 'stray-clone');
    const before = await state();
    await expect(images.removeImage(alice, 'bmi_test')).rejects.toMatchObject({ status: 409 });
    expect(await state()).toEqual(before);
  });

  it('removes the row of an image whose Ceph image is already gone (issue #122)', async () => {
    const golden = await importGolden();
    await storage.unprotectSnapshot(`5img${golden.id}`, S);
    await storage.removeSnapshot(`5img${golden.id}`, S);
    await storage.removeImage(`5img${golden.id}`);
    await images.removeImage(alice, 'bmi_test');
    expect(await row('proj1', 'bmi_test')).toBeNull();
  });

  it('refuses a disk (400): disks go through delete_disk', async () => {
    await importGolden();
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    const before = await state();
    await expect(images.removeImage(alice, 'disk1')).rejects.toThrow(WrongImageKindError);
    expect(await state()).toEqual(before);
  });

  it('an unknown image is 404 "<name> not found"', async () => {
    const err = await rejection(images.removeImage(alice, 'nope'));
    expect(err).toBeInstanceOf(ImageNotFoundError);
    expect(err.message).toBe('nope not found');
  });

  it('snapshot rows made from it become plain images (reference §4.2)', async () => {
    await importGolden();
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await images.createSnapshot(alice, 'disk1', 'snap1');
    await disks.deleteDisk(alice, 'disk1');
    await images.removeImage(alice, 'bmi_test');
    expect(await row('proj1', 'snap1')).toMatchObject({ parentId: null, isSnapshot: false });
    expect(await images.listImages(alice)).toEqual(['snap1']);
  });

  it.each([
    ['unprotecting the snapshot', () => failOn(storage, 'unprotectSnapshot')],
    ['removing the snapshot', () => failOn(storage, 'removeSnapshot')],
    ['deleting the row', () => failOn(t.imageRows.manager.connection, 'transaction')],
    ['removing the Ceph image (busy)', () => failOn(storage, 'removeImage', undefined, new RbdImageBusyError('busy'))],
  ])('failing at %s puts everything back: row (same id), protected snapshot, child rows', async (_, inject) => {
    await importGolden();
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await images.createSnapshot(alice, 'disk1', 'snap1');
    await disks.deleteDisk(alice, 'disk1');
    const before = await state();
    const boom = inject();
    await expect(images.removeImage(alice, 'bmi_test')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
    expect(await images.listSnapshots(alice)).toEqual([['snap1', 'bmi_test']]);
  });
});

describe('ImagesService listings', () => {
  it('list_snapshots gives parent "" for a snapshot without a parent (the original crashed, §8 #9)', async () => {
    await images.addImage(admin, { name: 'orphan', snapshot: true });
    expect(await images.listSnapshots(alice)).toEqual([['orphan', '']]);
  });

  it('lists only the caller’s project', async () => {
    await importGolden();
    await images.importImage(admin2, 'centos7');
    expect(await images.listImages(alice)).toEqual(['bmi_test']);
    expect(await images.listImages(bob)).toEqual(['centos7']);
  });

  /** The original's tests/unit/database/test_image.py (reference §7.3), through the services. */
  describe('test_image.py TestInsert / TestFetch / TestDelete', () => {
    beforeEach(async () => {
      await images.addImage(admin, { name: 'image1' });
      await images.addImage(admin, { name: 'image2', public: true });
      await images.addImage(admin, { name: 'image3', parent: 'image1' });
      await images.addImage(admin, { name: 'image4', snapshot: true, parent: 'image1' });
    });

    it('list_images has image1 and image2; the disk listing image3; the snapshot listing image4', async () => {
      expect(await images.listImages(alice)).toEqual(['image1', 'image2']);
      expect(await images.listDisks(alice)).toEqual([['image3', 'image1']]);
      expect(await images.listSnapshots(alice)).toEqual([['image4', 'image1']]);
      expect((await images.listAllImages(admin, { public: true })).map((r) => r.name)).toEqual(['image2']);
    });

    it('ids follow insertion order and the full listing has the four rows in order', async () => {
      const all = await images.listAllImages(admin);
      expect(all.map((r) => [r.id, r.name])).toEqual([
        [1, 'image1'],
        [2, 'image2'],
        [3, 'image3'],
        [4, 'image4'],
      ]);
      expect(all[3]).toEqual({
        id: 4,
        name: 'image4',
        project: 'proj1',
        cephName: '5img4',
        isPublic: false,
        isSnapshot: true,
        parent: 'image1',
      });
    });

    it('bmi db ls filters: kinds are OR-ed, then project/name/ceph must all match', async () => {
      const names = async (f: Parameters<ImagesService['listAllImages']>[1]) =>
        (await images.listAllImages(admin, f)).map((r) => r.name);
      expect(await names({ snapshots: true })).toEqual(['image4']);
      expect(await names({ clones: true })).toEqual(['image3']);
      expect(await names({ snapshots: true, clones: true })).toEqual(['image3', 'image4']);
      expect(await names({ ceph: '5img2' })).toEqual(['image2']);
      expect(await names({ project: 'proj1', name: 'image1' })).toEqual(['image1']);
      expect(await names({ project: 'proj2' })).toEqual([]);
      expect(await names({ public: true, name: 'image1' })).toEqual([]);
    });

    it('TestDelete: a deleted image is no longer listed', async () => {
      await images.deleteImage(admin, 'image2');
      expect(await images.listImages(alice)).toEqual(['image1']);
    });

    it('deleting a row that disks were made from is refused (409)', async () => {
      await expect(images.deleteImage(admin, 'image1')).rejects.toThrow(ImageHasClonesError);
    });

    it('TestFetch: an unknown name is 404', async () => {
      await expect(images.deleteImage(admin, 'image9')).rejects.toThrow(ImageNotFoundError);
    });

    it('add_image refuses a taken name, a taken id and an unknown parent', async () => {
      await expect(images.addImage(admin, { name: 'image1' })).rejects.toThrow(ImageExistsError);
      await expect(images.addImage(admin, { name: 'image9', id: 2 })).rejects.toMatchObject({ status: 409 });
      await expect(images.addImage(admin, { name: 'image9', parent: 'nope' })).rejects.toThrow(ImageNotFoundError);
    });

    it('add_image with one explicit id twice at once: one row, one 200 and one 409, never an update', async () => {
      const results = await Promise.allSettled([
        images.addImage(admin, { name: 'same_id_a', id: 77 }),
        images.addImage(admin, { name: 'same_id_b', id: 77 }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
      expect(refused.reason).toMatchObject({ status: 409, message: 'Image id 77 is already taken' });
      const winner = results.findIndex((r) => r.status === 'fulfilled') === 0 ? 'same_id_a' : 'same_id_b';
      expect((await t.imageRows.findBy({ id: 77 })).map((r) => r.name)).toEqual([winner]);
    });

    it('add_image keeps an explicit id, and ids are never reused after a delete', async () => {
      expect(await images.addImage(admin, { name: 'image9', id: 42 })).toBe(42);
      await images.deleteImage(admin, 'image9');
      expect(await images.addImage(admin, { name: 'image10' })).toBe(43);
    });
  });
});

/** The original's TestCopy / TestMove (reference §7.3), with Ceph behind them. */
describe('ImagesService.copyImage', () => {
  let image1: { id: number };
  beforeEach(async () => {
    image1 = await importGolden('bmi_test');
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await images.createSnapshot(alice, 'disk1', 'image2'); // a snapshot, parent bmi_test
  });

  it('into another project, keeping the name: a golden image there, with its own sealed Ceph copy', async () => {
    await images.copyImage(admin, 'bmi_test', 'proj2');
    const copy = (await row('proj2', 'bmi_test'))!;
    expect(copy).toMatchObject({ parentId: null, isSnapshot: false });
    expect(copy.id).not.toBe(image1.id);
    expect(await storage.parentOf(`5img${copy.id}`)).toBeNull();
    expect(await storage.listSnapshots(`5img${copy.id}`)).toEqual([{ name: S, protected: true }]);
    expect(await images.listImages(bob)).toEqual(['bmi_test']);
  });

  it('a snapshot copied into another project becomes a plain image', async () => {
    await images.copyImage(admin, 'image2', 'proj2', 'image3');
    expect(await row('proj2', 'image3')).toMatchObject({ parentId: null, isSnapshot: false });
    expect(await images.listSnapshots(bob)).toEqual([]);
    expect(await images.listImages(bob)).toEqual(['image3']);
  });

  it('a snapshot copied within the project stays a snapshot with the same parent', async () => {
    await images.copyImage(alice, 'image2', 'proj1', 'image3');
    expect(await row('proj1', 'image3')).toMatchObject({ parentId: image1.id, isSnapshot: true });
    expect(await images.listSnapshots(alice)).toEqual([
      ['image2', 'bmi_test'],
      ['image3', 'bmi_test'],
    ]);
  });

  it('copies the public flag', async () => {
    await images.addImage(admin, { name: 'pub', public: true });
    const pub = (await row('proj1', 'pub'))!;
    await storage.createImage(`5img${pub.id}`, 1024);
    await storage.createSnapshot(`5img${pub.id}`, S);
    await storage.protectSnapshot(`5img${pub.id}`, S);
    await images.copyImage(alice, 'pub', 'proj1', 'pub2');
    expect(await row('proj1', 'pub2')).toMatchObject({ isPublic: true });
  });

  it('the destination project must exist (404)', async () => {
    const before = await state();
    await expect(images.copyImage(admin, 'bmi_test', 'nope')).rejects.toThrow(ProjectNotFoundError);
    expect(await state()).toEqual(before);
  });

  it('a taken name in the destination is 409; a disk cannot be copied (400)', async () => {
    await expect(images.copyImage(alice, 'image2', 'proj1', 'bmi_test')).rejects.toThrow(ImageExistsError);
    await expect(images.copyImage(alice, 'image2', 'proj1')).rejects.toThrow(ImageExistsError);
    await expect(images.copyImage(alice, 'disk1', 'proj1', 'x')).rejects.toThrow(WrongImageKindError);
  });

  it.each([
    ['the row', () => failOn(catalog, 'reserve')],
    ['the clone', () => failOn(storage, 'clone')],
    ['the flatten', () => failOn(storage, 'flatten')],
    ['the snapshot of the copy', () => failOn(storage, 'protectSnapshot')],
  ])('failing at %s leaves no row and no Ceph image', async (_, inject) => {
    const before = await state();
    const boom = inject();
    await expect(images.copyImage(admin, 'bmi_test', 'proj2')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
  });
});

describe('ImagesService.moveImage', () => {
  beforeEach(async () => {
    await importGolden('bmi_test');
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await images.createSnapshot(alice, 'disk1', 'image2');
    await images.importImage(admin, 'centos7');
  });

  it('to another project: it leaves this one, appears there, keeps its id (and so its Ceph image)', async () => {
    const before = (await row('proj1', 'centos7'))!;
    await images.moveImage(admin, 'centos7', 'proj2');
    expect(await row('proj1', 'centos7')).toBeNull();
    expect(await row('proj2', 'centos7')).toMatchObject({ id: before.id, parentId: null, isSnapshot: false });
    expect(await images.listImages(bob)).toEqual(['centos7']);
    expect(await storage.imageExists(`5img${before.id}`)).toBe(true);
  });

  it('a snapshot moved to another project becomes a plain image there', async () => {
    await images.moveImage(admin, 'image2', 'proj2', 'image3');
    expect(await row('proj2', 'image3')).toMatchObject({ parentId: null, isSnapshot: false });
    expect(await images.listSnapshots(alice)).toEqual([]);
  });

  it('within the project with a new name: a rename, the snapshot flag kept', async () => {
    await images.moveImage(alice, 'image2', 'proj1', 'image3');
    expect(await images.listSnapshots(alice)).toEqual([['image3', 'bmi_test']]);
  });

  it('within the project with the same name changes nothing', async () => {
    const before = await state();
    await images.moveImage(alice, 'image2', 'proj1');
    expect(await state()).toEqual(before);
  });

  it('refuses to take disks or snapshots’ parent away from them (409), or to move a disk out (400)', async () => {
    const before = await state();
    await expect(images.moveImage(admin, 'bmi_test', 'proj2')).rejects.toThrow(ImageInUseError);
    await expect(images.moveImage(admin, 'disk1', 'proj2')).rejects.toThrow(WrongImageKindError);
    expect(await state()).toEqual(before);
  });

  it('refuses a taken name (409)', async () => {
    await expect(images.moveImage(alice, 'image2', 'proj1', 'centos7')).rejects.toThrow(ImageExistsError);
  });
});

describe('ImagesService.exportImage', () => {
  it('clones and flattens the image into a raw RBD image, with no DB change', async () => {
    await importGolden();
    const rows = (await state()).rows;
    await images.exportImage(admin, 'bmi_test', 'exported');
    expect(await storage.parentOf('exported')).toBeNull();
    expect(await storage.listSnapshots('exported')).toEqual([]);
    expect((await state()).rows).toEqual(rows);
  });

  it('refuses an existing target name (409) and removes a half-made export when flatten fails', async () => {
    await importGolden();
    await expect(images.exportImage(admin, 'bmi_test', 'centos7')).rejects.toMatchObject({ status: 409 });
    const before = await state();
    const boom = failOn(storage, 'flatten');
    await expect(images.exportImage(admin, 'bmi_test', 'exported')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
  });
});
