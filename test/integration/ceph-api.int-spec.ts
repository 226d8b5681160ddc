import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Database } from 'sqlite3';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { CephEnv, describeWithCeph } from '../utils/ceph-env';
import { addProject, allImages, call, createDisk, expectOk, expectText, imageRow } from '../utils/e2e';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';

const P = 'proj1';
const MiB = 1 << 20;

/** The app on the real cluster, with a uid of its own so that test files sharing the pool never collide. */
function cephAppEnv(env: CephEnv, uid: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    BMI_DRIVER_FS: 'ceph',
    BMI_FS_CONF_FILE: env.confFile,
    BMI_FS_ID: env.clientId,
    BMI_FS_KEYRING: env.keyring,
    BMI_FS_POOL: env.pool,
    BMI_FS_TIMEOUT_SECONDS: '20',
    BMI_BMI_UID: uid,
    ...extra,
  };
}

const freshUid = () => `t${randomBytes(4).toString('hex')}`;

describeWithCeph('every storage operation through the API, against real Ceph', (env) => {
  let t: TestApp;
  let ceph: CephRbdStorage;
  let uid: string;
  let raw: string;
  const S = 'bmi_snapshot';

  /** The pool's images that belong to this app (its uid), sorted. */
  const ours = async () => (await ceph.listImages()).filter((i) => i.startsWith(`${uid}img`));

  beforeAll(async () => {
    ceph = await CephRbdStorage.connect({ ...env, timeoutSeconds: 20 });
    uid = freshUid();
    raw = `raw-${uid}`;
    await ceph.createImage(raw, 64 * MiB);
    t = await startTestApp({ env: cephAppEnv(env, uid) });
    await addProject(t, P);
  });

  afterAll(async () => {
    await t?.close();
    for (const image of [raw, `exported-${uid}`]) {
      if (!(await ceph.imageExists(image))) continue;
      for (const s of await ceph.listSnapshots(image)) {
        if (s.protected) await ceph.unprotectSnapshot(image, s.name);
        await ceph.removeSnapshot(image, s.name);
      }
      await ceph.removeImage(image);
    }
    await ceph.close();
  });

  it('import: a flattened <uid>img<id> carrying the protected snapshot; the source is left as found', async () => {
    await expectText(call(t, 'put', '/import_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
    const row = await imageRow(t, P, raw);
    expect(row.cephName).toBe(`${uid}img${row.id}`);
    expect(await ceph.parentOf(row.cephName)).toBeNull();
    expect(await ceph.listSnapshots(row.cephName)).toEqual([{ name: S, protected: true }]);
    expect(await ceph.listSnapshots(raw)).toEqual([]);
    expect(await ceph.imageSize(row.cephName)).toBe(64 * MiB);
  });

  it('create_disk: a copy-on-write clone of the golden image, exported', async () => {
    const target = await createDisk(t, ALICE, P, 'd1', raw);
    const golden = await imageRow(t, P, raw);
    expect(target).toBe((await imageRow(t, P, 'd1')).cephName);
    expect(await ceph.parentOf(target)).toEqual({ pool: env.pool, image: golden.cephName, snapshot: S });
    expect(await ceph.children(golden.cephName, S)).toEqual([target]);
    expect((await t.iscsi.listTargets()).map((x) => x.image)).toEqual([target]);
    // marked in Ceph as this BMI's, over the marks the clone copied from the golden image
    const marks = await ceph.getMetadata(target);
    expect(marks).toMatchObject({ bmi_uid: uid, bmi_source: `${golden.cephName}@${S}` });
    expect(marks.bmi_operation).toMatch(/^[0-9a-f-]{36}$/);
    expect(marks.bmi_operation).not.toBe((await ceph.getMetadata(golden.cephName)).bmi_operation);
  });

  it('create_disk into a Ceph name that is already taken: 409, no row, no target, the other image untouched', async () => {
    const next = Math.max(...(await allImages(t)).map((r) => r.id)) + 1;
    const squatter = `${uid}img${next}`;
    await ceph.createImage(squatter, MiB);
    try {
      const before = await allImages(t);
      const r = await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd-clash', img: raw });
      expect([r.status, r.text]).toEqual([409, `${squatter} Already Exists`]);
      expect(await allImages(t)).toEqual(before);
      expect(await ceph.imageExists(squatter)).toBe(true);
      expect(await ceph.parentOf(squatter)).toBeNull();
      expect((await t.iscsi.listTargets()).length).toBe(1);
    } finally {
      await ceph.removeImage(squatter);
    }
  });

  it('create_snapshot: a new flattened image with its protected snapshot; nothing left on the disk', async () => {
    await expectText(
      call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 'snap1' }),
      200,
      'Success',
    );
    const d1 = await imageRow(t, P, 'd1');
    const snap = await imageRow(t, P, 'snap1');
    expect(snap).toMatchObject({ isSnapshot: true, parent: raw });
    expect(await ceph.parentOf(snap.cephName)).toBeNull();
    expect(await ceph.listSnapshots(snap.cephName)).toEqual([{ name: S, protected: true }]);
    expect(await ceph.listSnapshots(d1.cephName)).toEqual([]);
    const r = await expectOk(call(t, 'post', '/list_snapshots/', ALICE, { project: P }));
    expect(JSON.parse(r.text)).toEqual([['snap1', raw]]);
  });

  it('a disk made from the snapshot is a clone of the snapshot image', async () => {
    const target = await createDisk(t, ALICE, P, 'd2', 'snap1');
    const snap = await imageRow(t, P, 'snap1');
    expect(await ceph.parentOf(target)).toEqual({ pool: env.pool, image: snap.cephName, snapshot: S });
  });

  it('copy_image: an independent flattened copy with its own snapshot', async () => {
    await expectText(
      call(t, 'put', '/copy_image/', ALICE, { project: P, img: raw, dest_project: P, new_name: 'copy1' }),
      200,
      'Success',
    );
    const copy = await imageRow(t, P, 'copy1');
    expect(await ceph.parentOf(copy.cephName)).toBeNull();
    expect(await ceph.listSnapshots(copy.cephName)).toEqual([{ name: S, protected: true }]);
  });

  it('export_image: a raw, flattened image with no snapshot; no row', async () => {
    const rows = await allImages(t);
    const name = `exported-${uid}`;
    await expectText(call(t, 'put', '/export_image/', ADMIN, { project: P, img: 'copy1', name }), 200, 'Success');
    expect(await ceph.parentOf(name)).toBeNull();
    expect(await ceph.listSnapshots(name)).toEqual([]);
    expect(await allImages(t)).toEqual(rows);
    // a raw image handed out of BMI carries none of BMI's marks
    expect(await ceph.getMetadata(name)).toEqual({});
  });

  it('move_image: a rename in the DB, the Ceph image keeps its name', async () => {
    const before = await imageRow(t, P, 'copy1');
    await expectText(
      call(t, 'put', '/move_image/', ALICE, { project: P, img: 'copy1', dest_project: P, new_name: 'copy2' }),
      200,
      'Success',
    );
    expect((await imageRow(t, P, 'copy2')).cephName).toBe(before.cephName);
    expect(await ceph.imageExists(before.cephName)).toBe(true);
  });

  it('remove_image of an image that still has a disk: 409 before Ceph is touched', async () => {
    const golden = await imageRow(t, P, raw);
    const r = await call(t, 'delete', '/remove_image/', ALICE, { project: P, img: raw });
    expect([r.status, r.text]).toEqual([409, `${raw} has clones, please deprovision before deleting`]);
    expect(await ceph.listSnapshots(golden.cephName)).toEqual([{ name: S, protected: true }]);
  });

  it('delete_disk: target, row and clone gone; the parent loses its child', async () => {
    const d1 = await imageRow(t, P, 'd1');
    const golden = await imageRow(t, P, raw);
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd1' }), 200, 'Success');
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd2' }), 200, 'Success');
    expect(await ceph.imageExists(d1.cephName)).toBe(false);
    expect(await ceph.children(golden.cephName, S)).toEqual([]);
    expect(await t.iscsi.listTargets()).toEqual([]);
  });

  it('remove_image of every image leaves nothing of this BMI in the pool', async () => {
    for (const img of ['snap1', 'copy2', raw]) {
      await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img }), 200, 'Success');
    }
    expect(await allImages(t)).toEqual([]);
    expect(await ours()).toEqual([]);
  });

  it('import of an existing snapshot with --protect: the source snapshot is unprotected again afterwards', async () => {
    await ceph.createSnapshot(raw, 'v1');
    await expectText(
      call(t, 'put', '/import_image/', ADMIN, { project: P, img: raw, snap: 'v1', protect: 'true' }),
      200,
      'Success',
    );
    const row = await imageRow(t, P, raw);
    expect(await ceph.listSnapshots(raw)).toEqual([{ name: 'v1', protected: false }]);
    expect(await ceph.parentOf(row.cephName)).toBeNull();
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: raw }), 200, 'Success');
    await ceph.removeSnapshot(raw, 'v1');
    expect(await ours()).toEqual([]);
  });
});

describeWithCeph('a pool and database laid out by the original BMI', (env) => {
  let t: TestApp;
  let ceph: CephRbdStorage;
  let dir: string;
  const uid = freshUid();
  const S = 'snapshot'; // the original's constant before [bmi] snapshot existed

  /** The SQLite file the original made (SQLAlchemy's DDL), with a golden image (id 1) and a disk of it (id 2). */
  async function originalDb(file: string): Promise<void> {
    const db = new Database(file);
    const run = (sql: string) => new Promise<void>((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res())));
    await run(`
      CREATE TABLE project (id INTEGER NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (name));
      CREATE TABLE image (id INTEGER NOT NULL, name VARCHAR NOT NULL, is_public BOOLEAN NOT NULL,
        is_snapshot BOOLEAN NOT NULL, project_id INTEGER NOT NULL, parent_id INTEGER, PRIMARY KEY (id),
        CONSTRAINT _project_id_image_name_unique_constraint UNIQUE (project_id, name),
        FOREIGN KEY(project_id) REFERENCES project (id), FOREIGN KEY(parent_id) REFERENCES image (id));
      INSERT INTO project VALUES (1, 'bmi_infra'), (2, '${P}');
      INSERT INTO image VALUES (1, 'centos', 0, 0, 2, NULL), (2, 'old-disk', 0, 0, 2, 1);
    `);
    await new Promise<void>((res) => db.close(() => res()));
  }

  beforeAll(async () => {
    ceph = await CephRbdStorage.connect({ ...env, timeoutSeconds: 20 });
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-legacy-'));
    const dbFile = path.join(dir, 'bmi.db');
    await originalDb(dbFile);
    // the Ceph side, as the original made it: <uid>img1 with protected `snapshot`, <uid>img2 a clone of it
    await ceph.createImage(`${uid}img1`, 32 * MiB);
    await ceph.createSnapshot(`${uid}img1`, S);
    await ceph.protectSnapshot(`${uid}img1`, S);
    await ceph.clone(`${uid}img1`, S, `${uid}img2`);
    t = await startTestApp({ env: cephAppEnv(env, uid, { BMI_BMI_SNAPSHOT: S, BMI_DB_PATH: dbFile }) });
  });

  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
    await ceph.close();
  });

  it('lists the original images with their ids kept', async () => {
    expect((await allImages(t)).map((r) => [r.id, r.name, r.cephName, r.parent])).toEqual([
      [1, 'centos', `${uid}img1`, ''],
      [2, 'old-disk', `${uid}img2`, 'centos'],
    ]);
    const r = await expectOk(call(t, 'post', '/list_images/', ALICE, { project: P }));
    expect(JSON.parse(r.text)).toEqual(['centos']);
  });

  it('makes new disks from the original golden image, named after new ids', async () => {
    const target = await createDisk(t, ALICE, P, 'new-disk', 'centos');
    expect(target).toBe(`${uid}img3`);
    expect(await ceph.parentOf(target)).toEqual({ pool: env.pool, image: `${uid}img1`, snapshot: S });
  });

  it('snapshots and deletes the disks the original made, and finally removes the image, leaving nothing', async () => {
    // the original's disks are exported again at start: the reconciler makes the target of every disk
    expect(await t.iscsi.listTargets()).toContainEqual({ name: `${uid}img2`, image: `${uid}img2` });
    await expectText(
      call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'old-disk', snap_name: 'old-snap' }),
      200,
      'Success',
    );
    for (const disk of ['old-disk', 'new-disk']) {
      await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: disk }), 200, 'Success');
    }
    for (const img of ['old-snap', 'centos']) {
      await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img }), 200, 'Success');
    }
    expect(await allImages(t)).toEqual([]);
    expect((await ceph.listImages()).filter((i) => i.startsWith(`${uid}img`))).toEqual([]);
  });
});
