import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ADMIN, ALICE, startTestApp, TestApp } from '../../utils/test-app';
import { exclusive, lockKey, OperationLocks } from '../../../src/common/concurrency/locks';
import { IscsiUnavailableError, TargetNotFoundError } from '../../../src/modules/iscsi/iscsi.errors';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImageCatalog } from '../../../src/modules/images/image-catalog';
import { ImagesService } from '../../../src/modules/images/images.service';
import { TargetReconciler } from '../../../src/modules/images/target-reconciler.service';
import { FakeIscsiTargetDriver } from '../../../src/modules/iscsi/drivers/fake-iscsi-target.driver';
import { IscsiService } from '../../../src/modules/iscsi/iscsi.service';
import { basicAuthHeader } from '../../../src/common/http/basic-auth';

const basic = (c: { username: string; password: string }) => ({ Authorization: basicAuthHeader(c) });

/** The reconciler on the real DB (SQLite, real migrations) with the in-memory target driver standing in for tgtd. */

let alice: ProjectScope;
let admin: ProjectScope;

let t: TestApp;
let reconciler: TargetReconciler;
let disks: DisksService;
let catalog: ImageCatalog;
let logs: { warn: string[]; error: string[]; log: string[]; debug: string[] };

/** A tgtd restart, as far as BMI can tell: every target is gone. */
async function restartTgtd(): Promise<void> {
  for (const target of await t.iscsi.listTargets()) await t.iscsi.removeTarget(target.name);
}

async function start(opts: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const app = await startTestApp({ fakeImages: ['bmi_test', 'centos7'], ...opts });
  reconciler = app.app.get(TargetReconciler);
  disks = app.app.get(DisksService);
  catalog = app.app.get(ImageCatalog);
  return app;
}

async function seed(): Promise<void> {
  await t.app.get(ProjectsService).add('proj1');
  alice = await t.scope(ALICE, 'proj1');
  admin = await t.scope(ADMIN, 'proj1', 'admin');
  const images = t.app.get(ImagesService);
  await images.importImage(admin, 'bmi_test');
  await images.importImage(admin, 'centos7');
}

beforeEach(async () => {
  logs = { warn: [], error: [], log: [], debug: [] };
  for (const level of ['warn', 'error', 'log', 'debug'] as const) {
    jest
      .spyOn(Logger.prototype, level)
      .mockImplementation((...args: unknown[]) => void logs[level].push(String(args[0])));
  }
  t = await start();
  await seed();
});
afterEach(async () => {
  await t?.close();
  jest.restoreAllMocks();
});

describe('what should be exported is recorded in the database', () => {
  it('create_disk marks the disk exported; delete_disk removes the row', async () => {
    const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
    expect((await catalog.listExported()).map((r) => catalog.cephName(r))).toEqual([target]);
    await disks.deleteDisk(alice, 'disk1');
    expect(await catalog.listExported()).toEqual([]);
  });

  it('mount_image marks the image exported, umount_image clears it', async () => {
    await disks.mountImage(admin, 'centos7');
    expect((await catalog.listExported()).map((r) => r.name)).toEqual(['centos7']);
    await disks.umountImage(admin, 'centos7');
    expect(await catalog.listExported()).toEqual([]);
  });

  it('a failed mount leaves the image unmarked; a failed unmount leaves it marked and exported', async () => {
    jest.spyOn(t.imageRows, 'update').mockRejectedValueOnce(new Error('db down'));
    await expect(disks.mountImage(admin, 'centos7')).rejects.toThrow('db down');
    expect(await catalog.listExported()).toEqual([]);
    expect(await t.iscsi.listTargets()).toEqual([]);

    await disks.mountImage(admin, 'centos7');
    jest.spyOn(t.imageRows, 'update').mockRejectedValueOnce(new Error('db down'));
    await expect(disks.umountImage(admin, 'centos7')).rejects.toThrow('db down');
    expect((await catalog.listExported()).map((r) => r.name)).toEqual(['centos7']);
    expect((await t.iscsi.listTargets()).map((x) => x.image)).toEqual([
      catalog.cephName((await catalog.listExported())[0]),
    ]);
  });

  it('umount_image of a mounted image whose target is already gone (tgtd restarted) succeeds and clears the mark', async () => {
    await disks.mountImage(admin, 'centos7');
    await restartTgtd();
    await disks.umountImage(admin, 'centos7');
    expect(await catalog.listExported()).toEqual([]);
    await expect(disks.umountImage(admin, 'centos7')).rejects.toThrow(TargetNotFoundError);
  });
});

describe('TargetReconciler: targets made before CHAP was on', () => {
  it('gets credentials, once no initiator is logged in: the boot scripts first, then the target', async () => {
    // made and provisioned without CHAP (as the tests start), then CHAP is turned on
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    const put = (path: string, body: object) => t.http().put(path).set(basic(ALICE)).send(body);
    expect(
      (await put('/provision', { project: 'proj1', node: 'node-01', disk_name: 'disk1', nic: 'eth0' })).status,
    ).toBe(200);
    const script = () => readFileSync(path.join(t.tftpRoot, 'node-01.ipxe'), 'utf8');
    expect(script()).not.toContain('username');
    t.config.iscsi.chap = true;
    const fake = t.iscsi as FakeIscsiTargetDriver;
    const [target] = await t.iscsi.listTargets();
    expect(target.chap).toBeUndefined();

    // in use: left alone, said once
    fake.sessions.set(target.name, 1);
    for (let i = 0; i < 2; i++) expect(await reconciler.reconcile()).toMatchObject({ upgraded: [], failed: [] });
    expect(logs.warn.filter((l) => l.includes('gets them once no initiator is logged in'))).toHaveLength(1);
    expect(script()).not.toContain('username');
    // a tgtd restart meanwhile: the target comes back as it was, without credentials its node lacks
    await restartTgtd();
    expect(await reconciler.reconcile()).toMatchObject({ recreated: [target.name], upgraded: [] });
    expect((await t.iscsi.listTargets())[0].chap).toBeUndefined();
    expect(await t.app.get(IscsiService).accessFor(target.image)).toMatchObject({ chap: null });

    fake.sessions.delete(target.name);
    expect(await reconciler.reconcile()).toMatchObject({ upgraded: [target.name], mismatched: [], failed: [] });
    const [now] = await t.iscsi.listTargets();
    const access = await t.app.get(IscsiService).accessFor(target.image);
    expect(access.chap).not.toBeNull();
    expect(now).toEqual({
      name: target.name,
      image: target.image,
      initiators: [access.initiator],
      chap: { user: access.chap!.user },
    });
    expect(script()).toContain(`set initiator-iqn ${access.initiator}\n      set username ${access.chap!.user}\n`);
    expect(script()).toContain(`set password ${access.chap!.secret}\n`);
    expect(logs.log).toContain(`gave the iSCSI target ${target.name} CHAP credentials; 1 boot script(s) rewritten`);
    // done: the next pass changes nothing, and the secret was never logged
    expect(await reconciler.reconcile()).toMatchObject({ upgraded: [], recreated: [], mismatched: [] });
    expect(JSON.stringify(logs)).not.toContain(access.chap!.secret);
  });
});

describe('TargetReconciler.reconcile', () => {
  it('after a tgtd restart, re-creates the target of every disk and mounted image, as they were', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await disks.createDisk(alice, 'disk2', 'centos7');
    await disks.mountImage(admin, 'centos7');
    const before = await t.iscsi.listTargets();
    expect(before).toHaveLength(3);
    await restartTgtd();

    const report = await reconciler.reconcile();
    expect(report).toEqual({
      wanted: 3,
      recreated: before.map((x) => x.name).sort(),
      upgraded: [],
      failed: [],
      mismatched: [],
      unknown: [],
    });
    expect(await t.iscsi.listTargets()).toEqual(before);
    expect(logs.log.filter((l) => l.startsWith('re-created the iSCSI target'))).toHaveLength(3);
  });

  it('leaves alone what is in place: a second pass re-creates nothing', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await restartTgtd();
    expect((await reconciler.reconcile())!.recreated).toHaveLength(1);
    expect((await reconciler.reconcile())!.recreated).toEqual([]);
  });

  it('does not re-create an unmounted image, nor a disk an admin unmounted, nor a deleted disk', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await disks.createDisk(alice, 'disk2', 'bmi_test');
    await disks.mountImage(admin, 'centos7');
    await disks.umountImage(admin, 'centos7');
    await disks.umountImage(admin, 'disk1');
    await disks.deleteDisk(alice, 'disk2');
    await restartTgtd();
    expect(await reconciler.reconcile()).toMatchObject({ wanted: 0, recreated: [] });
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('reports targets it does not know, never deletes them, and logs them once until they change', async () => {
    await t.iscsi.addTarget({ name: 'foreign', image: 'not-ours' });
    await t.iscsi.addTarget({ name: 'left-over', image: '5img99' });
    expect((await reconciler.reconcile())!.unknown).toEqual(['foreign', 'left-over']);
    expect((await reconciler.reconcile())!.unknown).toEqual(['foreign', 'left-over']);
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toEqual(['foreign', 'left-over']);
    const warned = logs.warn.filter((l) => l.includes('BMI does not know'));
    expect(warned).toEqual(['2 target(s) BMI does not know (left as they are): foreign, left-over']);
    await t.iscsi.removeTarget('foreign');
    await reconciler.reconcile();
    expect(logs.warn.filter((l) => l.includes('BMI does not know'))).toHaveLength(2);
  });

  it('reports a target that exports another image under a wanted name, and leaves it', async () => {
    const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
    await t.iscsi.removeTarget(target);
    await t.iscsi.addTarget({ name: target, image: 'something-else' });
    const report = await reconciler.reconcile();
    expect(report).toMatchObject({ recreated: [], mismatched: [target] });
    expect(await t.iscsi.listTargets()).toEqual([{ name: target, image: 'something-else' }]);
    expect(logs.warn.join('\n')).toContain(`target ${target} exports "something-else"; BMI would export "${target}"`);
  });

  it('a target that cannot be made is reported and logged once; the others are made', async () => {
    const t1 = await disks.createDisk(alice, 'disk1', 'bmi_test');
    const t2 = await disks.createDisk(alice, 'disk2', 'bmi_test');
    await restartTgtd();
    const add = t.iscsi.addTarget.bind(t.iscsi);
    jest.spyOn(t.iscsi, 'addTarget').mockImplementation(async (target) => {
      if (target.name === t1) throw new Error('rbd image cannot be opened');
      return add(target);
    });
    const report = await reconciler.reconcile();
    expect(report).toMatchObject({ recreated: [t2], failed: [{ target: t1, error: 'rbd image cannot be opened' }] });
    await reconciler.reconcile();
    const line = `cannot re-create the iSCSI target ${t1} of image disk1 (${t1}): rbd image cannot be opened`;
    expect(logs.error.filter((l) => l === line)).toHaveLength(1);
    expect(logs.debug.filter((l) => l === line)).toHaveLength(1);
  });

  it('when the targets cannot be listed (tgtd down): null, an error in the log, nothing thrown', async () => {
    jest.spyOn(t.iscsi, 'listTargets').mockRejectedValue(new IscsiUnavailableError('tgtd is not reachable'));
    await expect(reconciler.reconcile()).resolves.toBeNull();
    expect(logs.error).toContain('cannot check the iSCSI targets: tgtd is not reachable');
  });

  it('concurrent calls share one pass', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await restartTgtd();
    const list = jest.spyOn(t.iscsi, 'listTargets');
    const [a, b] = await Promise.all([reconciler.reconcile(), reconciler.reconcile()]);
    expect(a).toBe(b);
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('waits for an operation on the image and reads the row again: a disk unmounted meanwhile is not re-created', async () => {
    await disks.createDisk(alice, 'disk1', 'bmi_test');
    await restartTgtd();
    const row = (await catalog.listExported())[0];
    const listed = jest.spyOn(t.iscsi, 'listTargets');
    let release!: () => void;
    let taken!: () => void;
    const isTaken = new Promise<void>((r) => (taken = r));
    const held = t.app.get(OperationLocks).run(
      [exclusive(lockKey.image(row.projectId, row.name))],
      () =>
        new Promise<void>((r) => {
          release = r;
          taken();
        }),
    );
    await isTaken;
    const pass = reconciler.reconcile();
    while (listed.mock.calls.length === 0) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await t.imageRows.update({ id: row.id }, { exported: false }); // what umount_image does under the lock
    release();
    await held;
    expect(await pass).toMatchObject({ wanted: 1, recreated: [] });
    expect(await t.iscsi.listTargets()).toEqual([]);
  });
});

describe('TargetReconciler at start and on a schedule', () => {
  it('at start re-creates the targets of the database (the fake driver, like a restarted tgtd, starts empty)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-reconcile-'));
    try {
      const env = { BMI_DB_PATH: path.join(dir, 'bmi.db') };
      await t.close();
      t = await start({ env });
      await seed();
      const target = await disks.createDisk(alice, 'disk1', 'bmi_test');
      await t.close();
      t = await start({ env });
      expect(await t.iscsi.listTargets()).toEqual([{ name: target, image: target }]);
      expect(logs.log).toContain('iSCSI targets at start: 1 wanted, 1 re-created');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with the fake driver only the pass at start runs', async () => {
    expect(t.app.get(SchedulerRegistry).getIntervals()).not.toContain(TargetReconciler.INTERVAL);
  });

  it('with the tgt driver it runs every [iscsi] reconcile_seconds (0: never), and stops with the app', async () => {
    const tgtEnv = {
      BMI_DRIVER_ISCSI: 'tgt',
      BMI_FS_ID: 'bmi',
      BMI_FS_CONF_FILE: '/nonexistent/ceph.conf',
      // no tgtd answers here: each pass logs that it cannot check the targets
      BMI_ISCSI_TGT_CONTROL_PORT: String(31000 + Math.floor(Math.random() * 1000)),
    };
    await t.close();
    t = await start({ env: { ...tgtEnv, BMI_ISCSI_RECONCILE_SECONDS: '0' } });
    expect(t.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
    await t.close();

    t = await start({ env: { ...tgtEnv, BMI_ISCSI_RECONCILE_SECONDS: '1' } });
    const registry = t.app.get(SchedulerRegistry);
    expect(registry.getIntervals()).toEqual([TargetReconciler.INTERVAL]);
    const pass = jest.spyOn(reconciler, 'reconcile');
    const deadline = Date.now() + 5000;
    while (pass.mock.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pass).toHaveBeenCalled();
    expect(logs.error.filter((l) => l.startsWith('cannot check the iSCSI targets')).length).toBeGreaterThanOrEqual(2);
    await t.close();
    expect(registry.getIntervals()).toEqual([]);
    t = await start();
  });
});
