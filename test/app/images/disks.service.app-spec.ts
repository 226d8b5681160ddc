import { Logger } from '@nestjs/common';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import { ADMIN, ALICE, startTestApp, TestApp } from '../../utils/test-app';
import { TargetExistsError, TargetNotFoundError, IscsiCommandError } from '../../../src/modules/iscsi/iscsi.errors';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImageCatalog } from '../../../src/modules/images/image-catalog';
import { DiskExistsError, ImageNotFoundError, WrongImageKindError } from '../../../src/modules/images/images.errors';
import { ImagesService } from '../../../src/modules/images/images.service';
import { BlockStorage } from '../../../src/modules/images/storage/block-storage';
import {
  RbdImageBusyError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
} from '../../../src/modules/images/storage/storage.errors';
import { TypeOrmOperationJournal } from '../../../src/modules/operations/operation-journal.service';

/** Ceph refusing to remove an image (it has watchers): nothing was removed. */
const busy = () => new RbdImageBusyError('the image has watchers');
import { appState, failOn, rejection } from '../../utils/faults';

/** DisksService on the real DB (SQLite :memory:, real migration) and the in-memory pool, targets and HIL. */

const S = 'bmi_snapshot';
let alice: ProjectScope;
let admin: ProjectScope;

let t: TestApp;
let disks: DisksService;
let images: ImagesService;
let catalog: ImageCatalog;
let storage: BlockStorage;
let golden: string; // Ceph name of bmi_test in proj1

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({ fakeImages: ['bmi_test', 'centos7'] });
  disks = t.app.get(DisksService);
  images = t.app.get(ImagesService);
  catalog = t.app.get(ImageCatalog);
  storage = t.storage;
  const projects = t.app.get(ProjectsService);
  await projects.add('proj1');
  await projects.add('proj2');
  alice = await t.scope(ALICE, 'proj1');
  admin = await t.scope(ADMIN, 'proj1', 'admin');
  await images.importImage(admin, 'bmi_test');
  golden = catalog.cephName((await catalog.find((await projects.require('proj1')).id, 'bmi_test'))!);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

const state = () => appState(t, async () => (await t.imageRows.find({ order: { id: 'ASC' } })).map((r) => ({ ...r })));

const diskRow = async (name: string) => catalog.find((await t.app.get(ProjectsService).require('proj1')).id, name);

describe('DisksService.createDisk', () => {
  it('inserts the row, clones the image and exports the clone; returns the target name <uid>img<id>', async () => {
    const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
    const row = (await diskRow('disk1'))!;
    expect(target).toBe(`5img${row.id}`);
    expect(row).toMatchObject({ parentId: (await diskRow('bmi_test'))!.id, isSnapshot: false, isPublic: false });
    expect(await storage.parentOf(target)).toEqual({ pool: 'bmi', image: golden, snapshot: S });
    expect(await storage.children(golden, S)).toEqual([target]);
    expect(await t.iscsi.listTargets()).toEqual([{ name: target, image: target }]);
    expect(await images.listDisks(alice)).toEqual([['disk1', 'bmi_test']]);
  });

  it('disks can be made from a snapshot image too', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await images.createSnapshot(alice, 'disk1', 'snap1');
    const target = await disks.createDisk(alice, 'disk2', 'snap1');
    const snapCeph = catalog.cephName((await diskRow('snap1'))!);
    expect(await storage.parentOf(target)).toEqual({ pool: 'bmi', image: snapCeph, snapshot: S });
  });

  it.each([
    ['the row', () => failOn(catalog, 'reserve')],
    ['the clone', () => failOn(storage, 'clone')],
    ['the target', () => failOn(t.iscsi, 'addTarget')],
  ])('failing at %s leaves no row, no clone and no target, and reports the failure (§8 #1)', async (_, inject) => {
    const before = await state();
    const boom = inject();
    await expect(disks.createDisk(alice, 'disk1', 'bmi_test')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
    expect(await storage.children(golden, S)).toEqual([]);
  });

  it('a target left behind under the new name is reported (409) and the clone and row are undone', async () => {
    const before = await state();
    // a stale target that happens to have the name the new disk will get
    const nextId = (await t.imageRows.find()).reduce((m, r) => Math.max(m, r.id), 0) + 1;
    await t.iscsi.addTarget({ name: `5img${nextId}`, image: 'stale' });
    await expect(disks.createDisk(alice, 'disk1', 'bmi_test')).rejects.toThrow(TargetExistsError);
    expect((await state()).rows).toEqual(before.rows);
    expect((await state()).pool).toEqual(before.pool);
    expect(await t.iscsi.listTargets()).toEqual([{ name: `5img${nextId}`, image: 'stale' }]);
  });

  it('a disk name that is taken is 409 "Disk exists. Endpoint:<target>", touching nothing', async () => {
    const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
    const before = await state();
    const err = await rejection(disks.createDisk(alice, 'disk1', 'bmi_test'));
    expect(err).toBeInstanceOf(DiskExistsError);
    expect(err.status).toBe(409);
    expect(err.message).toBe(`Disk exists. Endpoint:${target}`);
    expect(await state()).toEqual(before);
  });

  it('a name taken by an image is 409 too, naming that image’s endpoint', async () => {
    await expect(disks.createDisk(alice, 'bmi_test', 'bmi_test')).rejects.toThrow(`Disk exists. Endpoint:${golden}`);
  });

  it('an unknown image is 404 "<img> not found"', async () => {
    const err = await rejection(disks.createDisk(alice, 'disk1', 'nope'));
    expect(err).toBeInstanceOf(ImageNotFoundError);
    expect(err.message).toBe('nope not found');
  });

  it('a disk cannot be the source of a disk (400)', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await expect(disks.createDisk(alice, 'disk2', 'disk1')).rejects.toThrow(WrongImageKindError);
  });

  it('an image whose BMI snapshot is gone from Ceph is 404 naming the image, not its Ceph name; nothing left', async () => {
    await storage.unprotectSnapshot(golden, S);
    await storage.removeSnapshot(golden, S);
    const before = await state();
    const err = await rejection(disks.createDisk(alice, 'disk1', 'bmi_test'));
    expect(err).toBeInstanceOf(RbdImageNotFoundError);
    expect(err.message).toBe(`bmi_test@${S} Not Found`);
    expect(await state()).toEqual(before);
  });
});

describe('DisksService.deleteDisk', () => {
  let target: string;
  beforeEach(async () => {
    target = await disks.createDisk(alice, 'disk1', 'bmi_test');
  });

  it('removes the target, the row and the clone', async () => {
    await disks.deleteDisk(alice, 'disk1');
    expect(await diskRow('disk1')).toBeNull();
    expect(await storage.imageExists(target)).toBe(false);
    expect(await t.iscsi.listTargets()).toEqual([]);
    expect(await storage.children(golden, S)).toEqual([]);
  });

  it.each([
    ['removing the target', () => failOn(t.iscsi, 'removeTarget')],
    ['deleting the row', () => failOn(t.imageRows.manager.connection, 'transaction')],
    ['removing the clone (busy: refused before it acted)', () => failOn(storage, 'removeImage', undefined, busy())],
  ])('failing at %s puts back the row (same id) and the target (§8 #2)', async (_, inject) => {
    const before = await state();
    const boom = inject();
    await expect(disks.deleteDisk(alice, 'disk1')).rejects.toBe(boom);
    expect(await state()).toEqual(before);
    expect((await diskRow('disk1'))!.id).toBe(Number(target.slice('5img'.length)));
  });

  it('a disk whose target is already gone is still deleted', async () => {
    await t.iscsi.removeTarget(target);
    await disks.deleteDisk(alice, 'disk1');
    expect(await diskRow('disk1')).toBeNull();
    expect(await storage.imageExists(target)).toBe(false);
  });

  it('a disk whose clone is already gone is still deleted', async () => {
    await t.iscsi.removeTarget(target);
    await storage.removeImage(target);
    await t.iscsi.addTarget({ name: target, image: target });
    await disks.deleteDisk(alice, 'disk1');
    expect(await diskRow('disk1')).toBeNull();
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('when the clone removal fails part way (not a refusal), recovery completes the delete', async () => {
    const boom = failOn(storage, 'removeImage', undefined, new Error('osd timed out'));
    await expect(disks.deleteDisk(alice, 'disk1')).rejects.toBe(boom);
    // row and target are gone already; the clone's removal is handed to recovery
    expect(await diskRow('disk1')).toBeNull();
    const journal = t.app.get(TypeOrmOperationJournal);
    expect((await journal.list({ limit: 1 }))[0]).toMatchObject({ kind: 'delete_disk', state: 'interrupted' });
    await journal.recoverInterrupted();
    expect((await journal.list({ limit: 1 }))[0]).toMatchObject({ state: 'rolled_forward' });
    expect(await storage.imageExists(target)).toBe(false);
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('when the clone removal is refused and the target had already gone, the disk is left whole, with its target', async () => {
    const whole = await state();
    await t.iscsi.removeTarget(target);
    const boom = failOn(storage, 'removeImage', undefined, busy());
    await expect(disks.deleteDisk(alice, 'disk1')).rejects.toBe(boom);
    // the row says exported: the undo makes the target the reconciler would make
    expect(await state()).toEqual(whole);
  });

  it('a disk carrying user snapshots in Ceph is refused (409) before anything changes', async () => {
    await storage.createSnapshot(target, 'by-hand');
    const before = await state();
    await expect(disks.deleteDisk(alice, 'disk1')).rejects.toThrow(
      new RbdImageHasSnapshotsError('disk1 has Snapshots'),
    );
    expect(await state()).toEqual(before);
  });

  it("a disk carrying only BMI's snapshot (left by an interrupted snapshot) is deleted with it", async () => {
    await storage.createSnapshot(target, 'bmi_snapshot');
    await storage.protectSnapshot(target, 'bmi_snapshot');
    await disks.deleteDisk(alice, 'disk1');
    expect(await storage.imageExists(target)).toBe(false);
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('a golden image is not a disk (400)', async () => {
    const before = await state();
    await expect(disks.deleteDisk(alice, 'bmi_test')).rejects.toThrow(WrongImageKindError);
    expect(await state()).toEqual(before);
  });

  it('an unknown disk is 404', async () => {
    await expect(disks.deleteDisk(alice, 'nope')).rejects.toThrow(ImageNotFoundError);
  });

  it('a tgt failure other than "no such target" stops the delete and changes nothing', async () => {
    const before = await state();
    failOn(t.iscsi, 'removeTarget', () => true, new IscsiCommandError('tgtadm failed'));
    await expect(disks.deleteDisk(alice, 'disk1')).rejects.toThrow(IscsiCommandError);
    expect(await state()).toEqual(before);
  });

  it('after the delete the image can be removed', async () => {
    await disks.deleteDisk(alice, 'disk1');
    await images.removeImage(alice, 'bmi_test');
    expect(await storage.imageExists(golden)).toBe(false);
  });
});

describe('DisksService iSCSI mounts (admin)', () => {
  it('mounts, shows and unmounts an image of the project', async () => {
    expect(await disks.mountImage(admin, 'bmi_test')).toBe(golden);
    expect(await disks.showMounted(admin)).toEqual({ bmi_test: golden });
    await disks.umountImage(admin, 'bmi_test');
    expect(await disks.showMounted(admin)).toEqual({});
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('shows only the project’s images, with disks by their names', async () => {
    const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
    await t.iscsi.addTarget({ name: 'foreign', image: 'not-ours' });
    expect(await disks.showMounted(admin)).toEqual({ disk1: target });
    expect(await disks.showMounted(await t.scope(ADMIN, 'proj2', 'admin'))).toEqual({});
  });

  it('mounting twice is 409; unmounting what is not mounted is 404', async () => {
    await disks.mountImage(admin, 'bmi_test');
    await expect(disks.mountImage(admin, 'bmi_test')).rejects.toThrow(TargetExistsError);
    await disks.umountImage(admin, 'bmi_test');
    await expect(disks.umountImage(admin, 'bmi_test')).rejects.toThrow(TargetNotFoundError);
  });
});
