/**
 * The HTTP face of every route (reference §2.1-2.2): exact success bodies and content types, both path
 * spellings (with and without the trailing slash), form and JSON bodies, 405 for a wrong method, and the
 * BMI extensions' bodies.
 */
import { writeFileSync } from 'node:fs';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import {
  ADMIN_PROJECT,
  addProject,
  allImages,
  call,
  createDisk,
  Encoding,
  expectOk,
  expectText,
  HttpMethod,
  imageRow,
  importImage,
  listFiles,
} from '../utils/e2e';
import { otherSpelling, routeByName, ROUTES } from '../utils/routes';

const P = 'proj1';

async function freshApp(): Promise<TestApp> {
  const t = await startTestApp();
  await addProject(t, P);
  await importImage(t, P, 'bmi_test');
  return t;
}

describe('exact bodies of a fresh deployment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await freshApp();
  });
  afterAll(() => t.close());

  it('create_disk answers the quoted JSON string "5img2" (uid 5, second row), as the original', async () => {
    const r = await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd1', img: 'bmi_test' });
    expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: '"5img2"' });
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(await t.iscsi.listTargets()).toEqual([{ name: '5img2', image: '5img2' }]);
    expect(await t.storage.parentOf('5img2')).toEqual({ pool: 'bmi', image: '5img1', snapshot: 'bmi_snapshot' });
  });

  it('the golden image is 5img1 with one protected BMI snapshot; the raw source keeps no snapshot', async () => {
    expect(await t.storage.listSnapshots('5img1')).toEqual([{ name: 'bmi_snapshot', protected: true }]);
    expect(await t.storage.children('5img1', 'bmi_snapshot')).toEqual(['5img2']);
    expect(await t.storage.listSnapshots('bmi_test')).toEqual([]);
    expect(await t.storage.parentOf('5img1')).toBeNull();
  });
});

/** The eight original routes, in every combination of path spelling and body encoding. */
const VARIANTS: { label: string; spelling: 'registered' | 'other'; enc: Encoding }[] = [
  { label: 'form body, path as registered', spelling: 'registered', enc: 'form' },
  { label: 'form body, other trailing-slash spelling', spelling: 'other', enc: 'form' },
  { label: 'JSON body, path as registered', spelling: 'registered', enc: 'json' },
  { label: 'JSON body, other trailing-slash spelling', spelling: 'other', enc: 'json' },
];

describe.each(VARIANTS)('original routes: $label', ({ spelling, enc }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await freshApp();
  });
  afterAll(() => t.close());

  const send = (name: string, body: Record<string, unknown>) => {
    const r = routeByName(name);
    return call(t, r.method, spelling === 'registered' ? r.path : otherSpelling(r.path), ALICE, body, enc);
  };

  it('list_images: 200, JSON array of the golden image names', async () => {
    const r = await expectOk(send('list_images', { project: P }));
    expect(r.text).toBe('["bmi_test"]');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('create_disk: 200, the quoted target name, which is the Ceph name of the new row', async () => {
    const r = await expectOk(send('create_disk', { project: P, disk_name: 'cd', img: 'bmi_test' }));
    const row = await imageRow(t, P, 'cd');
    expect(r.text).toBe(`"${row.cephName}"`);
    expect(row).toMatchObject({ parent: 'bmi_test', isSnapshot: false });
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain(row.cephName);
  });

  it('delete_disk: 200 Success; row, target and clone are gone', async () => {
    const target = await createDisk(t, ALICE, P, 'dd');
    await expectText(send('delete_disk', { project: P, disk_name: 'dd' }), 200, 'Success');
    expect((await allImages(t)).map((x) => x.name)).not.toContain('dd');
    expect((await t.iscsi.listTargets()).map((x) => x.name)).not.toContain(target);
    expect(await t.storage.imageExists(target)).toBe(false);
  });

  it('provision and deprovision: 200 Success each; the boot files come and go', async () => {
    await createDisk(t, ALICE, P, 'pd');
    await expectText(send('provision', { project: P, node: 'node-01', disk_name: 'pd', nic: 'eth0' }), 200, 'Success');
    expect((await listFiles(t.tftpRoot)).map((f) => f.path)).toEqual([
      'node-01.ipxe',
      'pxelinux.cfg/01-52-54-00-12-34-56',
    ]);
    await expectText(send('deprovision', { project: P, node: 'node-01', nic: 'eth0' }), 200, 'Success');
    expect(await listFiles(t.tftpRoot)).toEqual([]);
  });

  it('create_snapshot and list_snapshots: 200 Success, then the JSON array of [snapshot, parent] pairs', async () => {
    await createDisk(t, ALICE, P, 'sd');
    await expectText(send('create_snapshot', { project: P, disk_name: 'sd', snap_name: 'snap1' }), 200, 'Success');
    const r = await expectOk(send('list_snapshots', { project: P }));
    expect(r.text).toBe('[["snap1","bmi_test"]]');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('remove_image: 200 Success; the image is no longer listed', async () => {
    await expectOk(
      call(t, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'rm_me' }),
    );
    const ceph = (await imageRow(t, P, 'rm_me')).cephName;
    await expectText(send('remove_image', { project: P, img: 'rm_me' }), 200, 'Success');
    expect((await allImages(t)).map((x) => x.name)).not.toContain('rm_me');
    expect(await t.storage.imageExists(ceph)).toBe(false);
  });
});

describe('wrong method', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const METHODS: HttpMethod[] = ['get', 'post', 'put', 'delete', 'patch'];

  it.each(ROUTES.map((r) => [r.name, r] as const))(
    '%s: every other method answers 405 with an Allow header, on both spellings, before auth',
    async (_name, route) => {
      for (const path of [route.path, otherSpelling(route.path)]) {
        for (const m of METHODS.filter((x) => x !== route.method)) {
          const r = await call(t, m, path, null, { project: P });
          expect({ path, m, status: r.status, allow: r.headers.allow }).toEqual({
            path,
            m,
            status: 405,
            allow: route.method.toUpperCase(),
          });
          expect(r.text).toContain(`use ${route.method.toUpperCase()}`);
        }
        const head = await t.http().head(path);
        expect(head.status).toBe(405);
      }
    },
  );

  it('an unknown path is a 404, not a 405', async () => {
    const r = await call(t, 'post', '/no_such_route/', ADMIN, { project: ADMIN_PROJECT });
    expect(r.status).toBe(404);
  });

  it('/create_disk/ (the spelling the original answered 404) reaches create_disk', async () => {
    // The original registered only `/create_disk`; here both spellings are the same route.
    const r = await call(t, 'put', '/create_disk/', null, { project: P });
    expect(r.status).toBe(400);
    expect(r.text).toBe('No Authentication Details Given');
  });
});

describe('BMI extensions: success bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await freshApp();
    await addProject(t, 'proj2');
    await createDisk(t, ALICE, P, 'd1');
  });
  afterAll(() => t.close());

  it('list_disks: [[disk, source image]]', async () => {
    const r = await expectOk(call(t, 'post', '/list_disks/', ALICE, { project: P }));
    expect(r.text).toBe('[["d1","bmi_test"]]');
  });

  it('list_all_images: every row, with the Ceph name and parent; flags filter (form and JSON)', async () => {
    const r = await expectOk(call(t, 'post', '/list_all_images/', ADMIN, { project: ADMIN_PROJECT }));
    expect(JSON.parse(r.text)).toEqual([
      { id: 1, name: 'bmi_test', project: P, cephName: '5img1', isPublic: false, isSnapshot: false, parent: '' },
      { id: 2, name: 'd1', project: P, cephName: '5img2', isPublic: false, isSnapshot: false, parent: 'bmi_test' },
    ]);
    const clones = await expectOk(
      call(t, 'post', '/list_all_images', ADMIN, { project: ADMIN_PROJECT, clones: true }, 'json'),
    );
    expect((JSON.parse(clones.text) as { name: string }[]).map((x) => x.name)).toEqual(['d1']);
    const byName = await expectOk(
      call(t, 'post', '/list_all_images/', ADMIN, {
        project: ADMIN_PROJECT,
        filter_name: 'bmi_test',
        snapshots: 'false',
      }),
    );
    expect((JSON.parse(byName.text) as { name: string }[]).map((x) => x.name)).toEqual(['bmi_test']);
  });

  it('list_projects, add_project, delete_project', async () => {
    const before = await expectOk(call(t, 'post', '/list_projects/', ADMIN, { project: ADMIN_PROJECT }));
    expect(JSON.parse(before.text)).toEqual([
      { id: 1, name: 'bmi_infra' },
      { id: 2, name: 'proj1' },
      { id: 3, name: 'proj2' },
    ]);
    const added = await expectOk(
      call(t, 'put', '/add_project', ADMIN, { project: ADMIN_PROJECT, name: 'proj3', id: 42 }, 'json'),
    );
    expect(added.text).toBe('{"id":42,"name":"proj3"}');
    await expectText(
      call(t, 'delete', '/delete_project/', ADMIN, { project: ADMIN_PROJECT, name: 'proj3' }),
      200,
      'Success',
    );
    const after = await expectOk(call(t, 'post', '/list_projects/', ADMIN, { project: ADMIN_PROJECT }));
    expect(after.text).toBe(before.text);
  });

  it('import_image of a protected snapshot of a raw image (snap + protect)', async () => {
    await t.storage.createSnapshot('centos7', 'golden');
    await expectText(
      call(t, 'put', '/import_image/', ADMIN, { project: 'proj2', img: 'centos7', snap: 'golden', protect: 'true' }),
      200,
      'Success',
    );
    const row = await imageRow(t, 'proj2', 'centos7');
    expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: 'bmi_snapshot', protected: true }]);
    expect(await t.storage.parentOf(row.cephName)).toBeNull();
    // BMI protected the source snapshot for the clone only
    expect(await t.storage.listSnapshots('centos7')).toEqual([{ name: 'golden', protected: false }]);
  });

  it('export_image: a raw, independent pool image; no DB change', async () => {
    const rows = await allImages(t);
    await expectText(
      call(t, 'put', '/export_image/', ADMIN, { project: P, img: 'bmi_test', name: 'exported' }),
      200,
      'Success',
    );
    expect(await t.storage.imageExists('exported')).toBe(true);
    expect(await t.storage.parentOf('exported')).toBeNull();
    expect(await t.storage.listSnapshots('exported')).toEqual([]);
    expect(await allImages(t)).toEqual(rows);
  });

  it('copy_image into another project (admin) gives a golden image there', async () => {
    await expectText(
      call(
        t,
        'put',
        '/copy_image/',
        ADMIN,
        { project: P, img: 'bmi_test', dest_project: 'proj2', new_name: 'copied' },
        'json',
      ),
      200,
      'Success',
    );
    const r = await expectOk(call(t, 'post', '/list_images/', ADMIN, { project: 'proj2' }));
    expect(JSON.parse(r.text)).toEqual(['centos7', 'copied']);
    const row = await imageRow(t, 'proj2', 'copied');
    expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: 'bmi_snapshot', protected: true }]);
  });

  it('move_image renames (same project) and moves (admin, other project) without touching Ceph', async () => {
    const row = await imageRow(t, 'proj2', 'copied');
    const pool = await t.storage.listImages();
    await expectText(
      call(t, 'put', '/move_image/', ADMIN, {
        project: 'proj2',
        img: 'copied',
        dest_project: 'proj2',
        new_name: 'renamed',
      }),
      200,
      'Success',
    );
    await expectText(
      call(t, 'put', '/move_image/', ADMIN, { project: 'proj2', img: 'renamed', dest_project: P }),
      200,
      'Success',
    );
    expect(await imageRow(t, P, 'renamed')).toMatchObject({ id: row.id, cephName: row.cephName });
    expect(await t.storage.listImages()).toEqual(pool);
  });

  it('add_image answers the new row id as JSON; delete_image answers Success', async () => {
    const r = await expectOk(
      call(t, 'put', '/add_image/', ADMIN, { project: P, img: 'adopted', id: '99', parent: 'bmi_test', snap: 'yes' }),
    );
    expect(r.text).toBe('99');
    expect(await imageRow(t, P, 'adopted')).toMatchObject({ cephName: '5img99', isSnapshot: true, parent: 'bmi_test' });
    await expectText(call(t, 'delete', '/delete_image/', ADMIN, { project: P, img: 'adopted' }), 200, 'Success');
    expect((await allImages(t)).map((x) => x.name)).not.toContain('adopted');
  });

  it('mount_image answers the quoted target; show_mounted maps images to targets; umount_image answers Success', async () => {
    const m = await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: 'bmi_test' }));
    expect(m.text).toBe('"5img1"');
    const shown = await expectOk(call(t, 'post', '/show_mounted/', ADMIN, { project: P }));
    expect(JSON.parse(shown.text)).toEqual({ bmi_test: '5img1', d1: '5img2' });
    await expectText(call(t, 'delete', '/umount_image/', ADMIN, { project: P, img: 'bmi_test' }), 200, 'Success');
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toEqual(['5img2']);
  });

  it("node_ip answers the IP of the node's lease as a JSON string, and 404 without one", async () => {
    await expectText(
      call(t, 'post', '/node_ip/', ALICE, { project: P, node: 'node-01', nic: 'eth1' }),
      404,
      '52:54:00:ab:cd:ef Has Not Been Assigned An IP Yet',
    );
    writeFileSync(
      t.config.tftp.leasesFile,
      '1900000000 52:54:00:ab:cd:ef 10.0.0.50 node-01 01:52:54:00:ab:cd:ef\n' +
        '1900000001 52:54:00:aa:bb:cc 10.0.0.51 node-02 *\n',
    );
    const r = await expectOk(call(t, 'post', '/node_ip/', ALICE, { project: P, node: 'node-01', nic: 'eth1' }));
    expect(r.text).toBe('"10.0.0.50"');
    const any = await expectOk(call(t, 'post', '/node_ip', ALICE, { project: P, node: 'node-01' }, 'json'));
    expect(any.text).toBe('"10.0.0.50"');
  });
});
