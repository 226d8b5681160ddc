/**
 * The "suggested extra acceptance cases" of reference §7 (after §7.6), with the statuses of §2.3 as fixed by
 * §8: no Authorization header, unknown project, wrong password, create_disk clashes, unknown image and nic,
 * remove_image of an image that still has disks, and the boot files byte for byte (§3.3).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import {
  ADMIN_PROJECT,
  addProject,
  AppState,
  call,
  captureState,
  createDisk,
  expectedIpxe,
  expectedPxelinux,
  expectOk,
  expectText,
  imageRow,
  importImage,
  listFiles,
} from '../utils/e2e';
import { ROUTES } from '../utils/routes';

const P = 'proj1';

/** A body for each route that passes validation, in project `project`. */
function validBody(routeName: string, project: string): Record<string, string> {
  const route = ROUTES.find((r) => r.name === routeName)!;
  const body: Record<string, string> = { project };
  for (const f of route.fields) {
    if (f.name === 'project' || !f.required) continue;
    body[f.name] =
      f.kind === 'node' ? 'node-01' : f.kind === 'nic' ? 'eth0' : f.name === 'dest_project' ? project : 'bmi_test';
  }
  return body;
}

describe('authentication and project, on every route', () => {
  let t: TestApp;
  let before: AppState;
  beforeAll(async () => {
    t = await startTestApp();
    await addProject(t, P);
    await importImage(t, P);
    await createDisk(t, ALICE, P, 'd1');
    before = await captureState(t);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    expect(await captureState(t)).toEqual(before);
  });

  const routes = ROUTES.map((r) => [r.name, r] as const);

  it.each(routes)('%s without an Authorization header: 400 "No Authentication Details Given"', async (name, route) => {
    for (const p of [route.path, route.path.replace(/\/$/, '')]) {
      await expectText(call(t, route.method, p, null, validBody(name, P)), 400, 'No Authentication Details Given');
    }
    // the header is checked before the body: an empty request gets the same answer
    await expectText(call(t, route.method, route.path, null), 400, 'No Authentication Details Given');
  });

  it.each(routes)('%s in a project BMI does not know: 404 "<project> not found"', async (name, route) => {
    const user = route.admin ? ADMIN : ALICE;
    await expectText(
      call(t, route.method, route.path, user, validBody(name, 'nosuchproject')),
      404,
      'nosuchproject not found',
    );
  });

  it.each(routes)('%s with a wrong HIL password: 401', async (name, route) => {
    const user = { username: route.admin ? 'admin' : 'alice', password: 'wrong-password' };
    const r = await call(t, route.method, route.path, user, validBody(name, P));
    expect(r.status).toBe(401);
    expect(r.text).toBe('Authentication Failed');
  });

  it.each(routes)('%s as a user HIL does not know: 401', async (name, route) => {
    const r = await call(t, route.method, route.path, { username: 'mallory', password: 'x' }, validBody(name, P));
    expect({ status: r.status, text: r.text }).toEqual({ status: 401, text: 'Authentication Failed' });
  });

  it('list_images with the wrong password (the original fixture incorrect_hil_password): 401', async () => {
    await expectText(
      call(t, 'post', '/list_images/', { username: 'alice', password: 'admin123##' }, { project: P }),
      401,
      'Authentication Failed',
    );
  });

  it('a password containing ":" is split at the first colon only (the original answered 500, §8 #11)', async () => {
    const r = await call(t, 'post', '/list_images/', { username: 'alice', password: 'alice:pass' }, { project: P });
    expect({ status: r.status, text: r.text }).toEqual({ status: 401, text: 'Authentication Failed' });
  });
});

describe('create_disk, provision and remove_image refusals', () => {
  let t: TestApp;
  let before: AppState;
  beforeAll(async () => {
    t = await startTestApp();
    await addProject(t, P);
    await importImage(t, P);
    expect(await createDisk(t, ALICE, P, 'd1')).toBe('5img2');
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    before = await captureState(t);
  });

  it('create_disk with an existing disk name: 409 "Disk exists. Endpoint:5img2", nothing changes', async () => {
    await expectText(
      call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd1', img: 'bmi_test' }),
      409,
      'Disk exists. Endpoint:5img2',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it("create_disk named like an existing image: 409 naming that image's endpoint, nothing changes", async () => {
    await expectText(
      call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'bmi_test', img: 'bmi_test' }),
      409,
      'Disk exists. Endpoint:5img1',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('create_disk of an unknown image (the fixture not_exist image i12): 404 "i12 not found", nothing changes', async () => {
    await expectText(
      call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd2', img: 'i12' }),
      404,
      'i12 not found',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('create_disk from a disk: 400, nothing changes', async () => {
    const r = await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd2', img: 'd1' });
    expect(r.status).toBe(400);
    expect(r.text).toContain('d1 is a disk');
    expect(await captureState(t)).toEqual(before);
  });

  it('create_disk of a raw pool image that was never imported: 404', async () => {
    await expectText(
      call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd2', img: 'centos7' }),
      404,
      'centos7 not found',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('remove_image of an image that still has disks: 409 has clones, nothing changes', async () => {
    await expectText(
      call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'bmi_test' }),
      409,
      'bmi_test has clones, please deprovision before deleting',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('remove_image of a disk: 400 (use delete_disk), nothing changes', async () => {
    const r = await call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'd1' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('d1 is a disk: use delete_disk to remove it');
    expect(await captureState(t)).toEqual(before);
  });

  it('remove_image of an unknown snapshot (the fixture not_exist snapshot "hello"): 404', async () => {
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'hello' }), 404, 'hello not found');
    expect(await captureState(t)).toEqual(before);
  });

  it('remove_image of an image exported over iSCSI: 409, nothing changes', async () => {
    await expectOk(
      call(t, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'm' }),
    );
    await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: 'm' }));
    const mounted = await captureState(t);
    await expectText(
      call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'm' }),
      409,
      'm is exported over iSCSI; unmount it first',
    );
    expect(await captureState(t)).toEqual(mounted);
  });

  it('delete_disk of a golden image: 400, nothing changes', async () => {
    const r = await call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'bmi_test' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('bmi_test is not a disk: use remove_image to remove it');
    expect(await captureState(t)).toEqual(before);
  });

  it('create_snapshot with the name of an existing image: 409, nothing changes', async () => {
    await expectText(
      call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 'bmi_test' }),
      409,
      'bmi_test already exists in project proj1',
    );
    expect(await captureState(t)).toEqual(before);
  });
});

describe('boot files (§3.3), byte for byte', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await addProject(t, P);
    await importImage(t, P);
  });
  afterAll(() => t.close());

  async function file(full: string): Promise<{ bytes: Buffer; mode: number }> {
    return { bytes: await fs.readFile(full), mode: (await fs.stat(full)).mode & 0o777 };
  }

  it('provision writes <tftpRoot>/<node>.ipxe (0755) and <pxelinuxDir>/01-<mac, lower case, dashes> (0644)', async () => {
    const target = await createDisk(t, ALICE, P, 'boot-disk');
    expect(target).toBe('5img2');
    // eth1's MAC is stored in mixed case in HIL (52:54:00:aB:cD:Ef); pxelinux looks up lower case
    await expectText(
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'boot-disk', nic: 'eth1' }),
      200,
      'Success',
    );

    const ipxe = await file(path.join(t.tftpRoot, 'node-01.ipxe'));
    expect(ipxe.mode).toBe(0o755);
    expect(ipxe.bytes.toString('utf8')).toBe(
      [
        '#!ipxe',
        '      set keep-san 1',
        '      ifconf --configurator=dhcp net2',
        '      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img2',
        '      boot',
      ].join('\n'),
    );
    expect(ipxe.bytes.equals(Buffer.from(expectedIpxe('5img2'), 'utf8'))).toBe(true);
    expect(ipxe.bytes[ipxe.bytes.length - 1]).not.toBe(0x0a);

    const pxe = await file(path.join(t.pxelinuxDir, '01-52-54-00-ab-cd-ef'));
    expect(pxe.mode).toBe(0o644);
    expect(pxe.bytes.toString('utf8')).toBe(
      'DEFAULT menu\n  PROMPT 0\n  MENU TITLE PXE Menu\n  TIMEOUT 30\n  ONTIMEOUT boot-disk\n\n\n' +
        'LABEL boot-disk\n     MENU LABEL boot-disk\n     KERNEL ipxe.lkrn\n     INITRD node-01.ipxe',
    );
    expect(pxe.bytes.equals(Buffer.from(expectedPxelinux('boot-disk', 'node-01'), 'utf8'))).toBe(true);
    expect(pxe.bytes[pxe.bytes.length - 1]).not.toBe(0x0a);

    // nothing else is written anywhere under the TFTP root (no temporary files left either)
    expect((await listFiles(t.tftpRoot)).map((f) => f.path)).toEqual([
      'node-01.ipxe',
      'pxelinux.cfg/01-52-54-00-ab-cd-ef',
    ]);
  });

  it('provisioning again to another disk rewrites both files in place', async () => {
    const target = await createDisk(t, ALICE, P, 'other-disk');
    await expectOk(
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'other-disk', nic: 'eth1' }),
    );
    const files = await listFiles(t.tftpRoot);
    expect(files).toEqual([
      { path: 'node-01.ipxe', mode: 0o755, content: expectedIpxe(target) },
      { path: 'pxelinux.cfg/01-52-54-00-ab-cd-ef', mode: 0o644, content: expectedPxelinux('other-disk', 'node-01') },
    ]);
  });

  it('deprovision removes exactly the two files and leaves disk, clone and target', async () => {
    const before = await captureState(t);
    await expectText(
      call(t, 'delete', '/deprovision/', ALICE, { project: P, node: 'node-01', nic: 'eth1' }),
      200,
      'Success',
    );
    const after = await captureState(t);
    expect(after.files).toEqual([]);
    expect({ ...after, files: before.files }).toEqual(before);
    // a second deprovision finds nothing to remove and still succeeds
    await expectText(
      call(t, 'delete', '/deprovision/', ALICE, { project: P, node: 'node-01', nic: 'eth1' }),
      200,
      'Success',
    );
  });

  it("provision through eth0 names the file after eth0's MAC", async () => {
    await expectOk(
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'boot-disk', nic: 'eth0' }),
    );
    const row = await imageRow(t, P, 'boot-disk');
    expect(await listFiles(t.tftpRoot)).toEqual([
      { path: 'node-01.ipxe', mode: 0o755, content: expectedIpxe(row.cephName) },
      { path: 'pxelinux.cfg/01-52-54-00-12-34-56', mode: 0o644, content: expectedPxelinux('boot-disk', 'node-01') },
    ]);
  });
});

describe('the admin project', () => {
  it('bmi_infra exists from the first start and answers the admin', async () => {
    const t = await startTestApp();
    try {
      const r = await expectOk(call(t, 'post', '/list_projects/', ADMIN, { project: ADMIN_PROJECT }));
      expect(JSON.parse(r.text)).toEqual([{ id: 1, name: 'bmi_infra' }]);
      const imgs = await expectOk(call(t, 'post', '/list_images/', ADMIN, { project: ADMIN_PROJECT }));
      expect(imgs.text).toBe('[]');
    } finally {
      await t.close();
    }
  });
});

describe('more refusals and fixes of §8', () => {
  let t: TestApp;
  let before: AppState;
  beforeAll(async () => {
    t = await startTestApp();
    await addProject(t, P);
    await addProject(t, 'proj2');
    await importImage(t, P);
    await createDisk(t, ALICE, P, 'd1');
    await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's1' }));
    await createDisk(t, ALICE, P, 'from-snap', 's1');
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    before = await captureState(t);
  });

  it('a disk made from a snapshot is a clone of the snapshot image', async () => {
    const s1 = await imageRow(t, P, 's1');
    const disk = await imageRow(t, P, 'from-snap');
    expect(disk.parent).toBe('s1');
    expect(await t.storage.parentOf(disk.cephName)).toMatchObject({ image: s1.cephName, snapshot: 'bmi_snapshot' });
  });

  it('remove_image of a snapshot that disks were made from: 409, nothing changes', async () => {
    await expectText(
      call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 's1' }),
      409,
      's1 has clones, please deprovision before deleting',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('move_image of an image with descendants into another project: 409, nothing changes', async () => {
    const r = await call(t, 'put', '/move_image/', ADMIN, { project: P, img: 'bmi_test', dest_project: 'proj2' });
    expect(r.status).toBe(409);
    expect(r.text).toBe('bmi_test has disks or snapshots made from it and cannot leave project proj1');
    expect(await captureState(t)).toEqual(before);
  });

  it('copy_image of a disk: 400, nothing changes', async () => {
    const r = await call(t, 'put', '/copy_image/', ALICE, {
      project: P,
      img: 'd1',
      dest_project: P,
      new_name: 'dcopy',
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain('d1 is a disk');
    expect(await captureState(t)).toEqual(before);
  });

  it('delete_project of a project that still has images: 409, nothing changes (the original cascaded)', async () => {
    const r = await call(t, 'delete', '/delete_project/', ADMIN, { project: ADMIN_PROJECT, name: P });
    expect(r.status).toBe(409);
    expect(r.text).toMatch(/^Project proj1 still has 4 image\(s\)/);
    expect(await captureState(t)).toEqual(before);
  });

  it('delete_project of the admin project: 409, nothing changes', async () => {
    const r = await call(t, 'delete', '/delete_project/', ADMIN, { project: ADMIN_PROJECT, name: ADMIN_PROJECT });
    expect(r.status).toBe(409);
    expect(await captureState(t)).toEqual(before);
  });

  it('add_project of an existing project: 409, nothing changes', async () => {
    const r = await call(t, 'put', '/add_project/', ADMIN, { project: ADMIN_PROJECT, name: 'proj2' });
    expect({ status: r.status, text: r.text }).toEqual({ status: 409, text: 'Project proj2 already exists' });
    expect(await captureState(t)).toEqual(before);
  });

  it('provision of a disk that is not exported any more: 409, no boot file', async () => {
    await expectOk(call(t, 'delete', '/umount_image/', ADMIN, { project: P, img: 'd1' }));
    const unmounted = await captureState(t);
    const r = await call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth0' });
    expect(r.status).toBe(409);
    expect(r.text).toBe('d1 is not exported over iSCSI; delete and create the disk again');
    expect(await captureState(t)).toEqual(unmounted);
    await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: 'd1' }));
    expect(await captureState(t)).toEqual(before);
  });

  it('list_snapshots lists a snapshot row without a parent with parent "" (the original crashed, §8 #9)', async () => {
    await expectOk(call(t, 'put', '/add_image/', ADMIN, { project: P, img: 'orphan', snap: 'true' }));
    const r = await expectOk(call(t, 'post', '/list_snapshots/', ALICE, { project: P }));
    expect(JSON.parse(r.text)).toEqual([
      ['s1', 'bmi_test'],
      ['orphan', ''],
    ]);
    await expectOk(call(t, 'delete', '/delete_image/', ADMIN, { project: P, img: 'orphan' }));
    expect(await captureState(t)).toEqual(before);
  });

  it('add_image with an id that is taken or a parent that does not exist: refused, nothing changes', async () => {
    const taken = await call(t, 'put', '/add_image/', ADMIN, { project: P, img: 'dup', id: '1' });
    expect({ status: taken.status, text: taken.text }).toEqual({ status: 409, text: 'Image id 1 is already taken' });
    await expectText(
      call(t, 'put', '/add_image/', ADMIN, { project: P, img: 'x', parent: 'nope' }),
      404,
      'nope not found',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('export_image onto an existing raw image name: 409, nothing changes', async () => {
    await expectText(
      call(t, 'put', '/export_image/', ADMIN, { project: P, img: 's1', name: 'centos7' }),
      409,
      'centos7 Already Exists',
    );
    expect(await captureState(t)).toEqual(before);
  });

  it('import_image of a raw image that is not in the pool: 404, nothing changes', async () => {
    await expectText(call(t, 'put', '/import_image/', ADMIN, { project: P, img: 'i12' }), 404, 'i12 Not Found');
    expect(await captureState(t)).toEqual(before);
  });
});
