/**
 * The original test suite, ported over HTTP (reference §7.5 tests/integration/einstein/test_operations.py and
 * §7.6 tests/unit/picasso/test_rest.py). The original ran as HIL admin in `bmi_infra` against node `bmi_node`;
 * here alice works in proj1, which owns node-01 in the fake HIL. Setup goes through the API too: the admin adds
 * the project and imports the raw pool image `bmi_test`.
 */
import { ALICE, startTestApp, TestApp } from '../utils/test-app';
import {
  addProject,
  allImages,
  call,
  createDisk,
  expectOk,
  expectText,
  imageRow,
  importImage,
  listFiles,
} from '../utils/e2e';

const PROJECT = 'proj1';
const NODE = 'node-01';
const NIC = 'eth0';
const SNAP = 'test_snap';

let t: TestApp;

beforeEach(async () => {
  t = await startTestApp();
  await addProject(t, PROJECT);
  await importImage(t, PROJECT, 'bmi_test');
});

afterEach(async () => {
  await t.close();
});

const as = ALICE;

describe('§7.5 test_operations', () => {
  it('TestProvisionDeprovision: create_disk, provision, deprovision, delete_disk each answer 200', async () => {
    const target = await createDisk(t, as, PROJECT, 'new-disk');
    const disk = await imageRow(t, PROJECT, 'new-disk');
    expect(target).toBe(disk.cephName);
    expect(await t.storage.parentOf(target)).toMatchObject({
      image: (await imageRow(t, PROJECT, 'bmi_test')).cephName,
    });
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain(target);

    await expectText(
      call(t, 'put', '/provision/', as, { project: PROJECT, node: NODE, disk_name: 'new-disk', nic: NIC }),
      200,
      'Success',
    );
    expect((await listFiles(t.tftpRoot)).map((f) => f.path)).toEqual([
      `${NODE}.ipxe`,
      'pxelinux.cfg/01-52-54-00-12-34-56',
    ]);

    await expectText(
      call(t, 'delete', '/deprovision/', as, { project: PROJECT, node: NODE, nic: NIC }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toEqual([]);
    // deprovision leaves the disk alone
    expect(await t.storage.imageExists(target)).toBe(true);

    await expectText(
      call(t, 'delete', '/delete_disk', as, { project: PROJECT, disk_name: 'new-disk' }),
      200,
      'Success',
    );
    expect(await t.storage.imageExists(target)).toBe(false);
    expect(await t.iscsi.listTargets()).toEqual([]);
    expect((await allImages(t)).map((r) => r.name)).toEqual(['bmi_test']);
  });

  it('TestCreateSnapshot: 200, the snapshot is listed and its Ceph image 5img<id> exists', async () => {
    await createDisk(t, as, PROJECT, 'new-disk');
    await expectText(
      call(t, 'put', '/create_snapshot/', as, { project: PROJECT, disk_name: 'new-disk', snap_name: SNAP }),
      200,
      'Success',
    );
    const snaps = await expectOk(call(t, 'post', '/list_snapshots/', as, { project: PROJECT }));
    expect((JSON.parse(snaps.text) as string[][]).map((s) => s[0])).toContain(SNAP);
    const row = await imageRow(t, PROJECT, SNAP);
    expect(row.cephName).toBe(`5img${row.id}`);
    expect(row.isSnapshot).toBe(true);
    expect(await t.storage.listImages()).toContain(row.cephName);
    // the snapshot is an independent (flattened) image carrying its own protected BMI snapshot
    expect(await t.storage.parentOf(row.cephName)).toBeNull();
    expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: 'bmi_snapshot', protected: true }]);
  });

  it("TestListSnapshots: 200 and retval[0][0] == 'test_snap'", async () => {
    await createDisk(t, as, PROJECT, 'new-disk');
    await expectOk(
      call(t, 'put', '/create_snapshot/', as, { project: PROJECT, disk_name: 'new-disk', snap_name: SNAP }),
    );
    const r = await expectOk(call(t, 'post', '/list_snapshots/', as, { project: PROJECT }));
    const body = JSON.parse(r.text) as string[][];
    expect(body[0][0]).toBe('test_snap');
    expect(body).toEqual([['test_snap', 'bmi_test']]);
  });

  it("TestListImages: 200 and exactly ['bmi_test']", async () => {
    const r = await expectOk(call(t, 'post', '/list_images/', as, { project: PROJECT }));
    expect(JSON.parse(r.text)).toEqual(['bmi_test']);
  });

  it('TestRemoveImage: remove_image(bmi_test) answers 200 and the image is gone from DB and Ceph', async () => {
    const ceph = (await imageRow(t, PROJECT, 'bmi_test')).cephName;
    await expectText(call(t, 'delete', '/remove_image/', as, { project: PROJECT, img: 'bmi_test' }), 200, 'Success');
    expect(await allImages(t)).toEqual([]);
    expect(await t.storage.imageExists(ceph)).toBe(false);
    // the raw source image was only borrowed by the import
    expect(await t.storage.listImages()).toEqual(['bmi_test', 'centos7']);
    expect(await t.storage.listSnapshots('bmi_test')).toEqual([]);
  });

  it('TestCopyImage: copy_image(bmi_test, same project, img2) answers 200; img2 is listed and its Ceph image exists', async () => {
    await expectText(
      call(t, 'put', '/copy_image/', as, {
        project: PROJECT,
        img: 'bmi_test',
        dest_project: PROJECT,
        new_name: 'img2',
      }),
      200,
      'Success',
    );
    const r = await expectOk(call(t, 'post', '/list_images/', as, { project: PROJECT }));
    expect(JSON.parse(r.text)).toEqual(['bmi_test', 'img2']);
    const row = await imageRow(t, PROJECT, 'img2');
    expect(await t.storage.imageExists(row.cephName)).toBe(true);
    expect(await t.storage.parentOf(row.cephName)).toBeNull();
    expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: 'bmi_snapshot', protected: true }]);
  });
});

describe('§7.6 test_rest', () => {
  const DISK = 'test-disk';

  it('TestProvision: PUT provision/ answers 200; the teardown (delete_disk, deprovision, remove_image) works', async () => {
    await createDisk(t, as, PROJECT, DISK);
    await expectText(
      call(t, 'put', '/provision/', as, { project: PROJECT, node: NODE, disk_name: DISK, nic: NIC }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toHaveLength(2);
    // tearDown, in the original's order
    await expectText(call(t, 'delete', '/delete_disk', as, { project: PROJECT, disk_name: DISK }), 200, 'Success');
    await expectText(
      call(t, 'delete', '/deprovision/', as, { project: PROJECT, node: NODE, nic: NIC }),
      200,
      'Success',
    );
    await expectText(call(t, 'delete', '/remove_image/', as, { project: PROJECT, img: 'bmi_test' }), 200, 'Success');
    expect(await allImages(t)).toEqual([]);
    expect(await listFiles(t.tftpRoot)).toEqual([]);
    expect(await t.iscsi.listTargets()).toEqual([]);
    expect(await t.storage.listImages()).toEqual(['bmi_test', 'centos7']);
  });

  it('TestDeprovision: DELETE deprovision/ answers 200 after a provision', async () => {
    await createDisk(t, as, PROJECT, DISK);
    await expectOk(call(t, 'put', '/provision/', as, { project: PROJECT, node: NODE, disk_name: DISK, nic: NIC }));
    await expectText(
      call(t, 'delete', '/deprovision/', as, { project: PROJECT, node: NODE, nic: NIC }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toEqual([]);
  });

  it('TestCreateSnapshot: PUT create_snapshot/ answers 200; the DB lists the snapshot and its Ceph image exists', async () => {
    await createDisk(t, as, PROJECT, DISK);
    await expectText(
      call(t, 'put', '/create_snapshot/', as, { project: PROJECT, disk_name: DISK, snap_name: SNAP }),
      200,
      'Success',
    );
    const snaps = (await allImages(t)).filter((r) => r.isSnapshot);
    expect(snaps.map((r) => r.name)).toEqual([SNAP]);
    expect(await t.storage.imageExists(snaps[0].cephName)).toBe(true);
  });

  it("TestListSnapshots: POST list_snapshots/ answers 200 and json[0][0] == 'test_snap'", async () => {
    await createDisk(t, as, PROJECT, DISK);
    await expectOk(call(t, 'put', '/create_snapshot/', as, { project: PROJECT, disk_name: DISK, snap_name: SNAP }));
    const r = await expectOk(call(t, 'post', '/list_snapshots/', as, { project: PROJECT }));
    expect((JSON.parse(r.text) as string[][])[0][0]).toBe('test_snap');
  });

  it("TestListImages: POST list_images/ answers 200 and json[0] == 'bmi_test'", async () => {
    const r = await expectOk(call(t, 'post', '/list_images/', as, { project: PROJECT }));
    expect((JSON.parse(r.text) as string[])[0]).toBe('bmi_test');
  });

  it('TestRemoveImage: DELETE remove_image/ answers 200', async () => {
    await expectText(call(t, 'delete', '/remove_image/', as, { project: PROJECT, img: 'bmi_test' }), 200, 'Success');
    const r = await expectOk(call(t, 'post', '/list_images/', as, { project: PROJECT }));
    expect(JSON.parse(r.text)).toEqual([]);
  });

  it('TestRemoveSnapshot (skipped in the original as "same as remove image"): remove_image removes a snapshot', async () => {
    await createDisk(t, as, PROJECT, DISK);
    await expectOk(call(t, 'put', '/create_snapshot/', as, { project: PROJECT, disk_name: DISK, snap_name: SNAP }));
    const ceph = (await imageRow(t, PROJECT, SNAP)).cephName;
    await expectText(call(t, 'delete', '/remove_image/', as, { project: PROJECT, img: SNAP }), 200, 'Success');
    const r = await expectOk(call(t, 'post', '/list_snapshots/', as, { project: PROJECT }));
    expect(JSON.parse(r.text)).toEqual([]);
    expect(await t.storage.imageExists(ceph)).toBe(false);
  });
});
