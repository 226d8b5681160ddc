/**
 * Consistency under failure, through the whole app (reference §8 #1, #2, #8, #12 and issue #122): a step that
 * fails anywhere in create_disk, delete_disk, create_snapshot, import_image, copy_image, remove_image,
 * provision or deprovision is reported (never a 200), and DB, pool, targets and boot files are left exactly as
 * they were. Also: things removed behind BMI's back, and repeated snapshots of one disk.
 */
import { BootFileStore } from '../../src/modules/tftp/boot-file.store';
import { IscsiCommandError, TargetExistsError } from '../../src/modules/iscsi/iscsi.errors';
import { RbdImageBusyError } from '../../src/modules/images/storage/storage.errors';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import {
  addProject,
  allImages,
  AppState,
  call,
  captureState,
  createDisk,
  expectedIpxe,
  expectOk,
  expectText,
  imageRow,
  importImage,
  listFiles,
  storageState,
} from '../utils/e2e';

const P = 'proj1';
const SNAP = 'bmi_snapshot';

let t: TestApp;
let before: AppState;

/**
 * Makes the `nth` call of `obj[method]` reject with `error`; the other calls go through to the real method.
 * (For the first call, the tests use jest's own `mockRejectedValueOnce`.)
 */
function failNthCall<T extends object>(obj: T, method: keyof T & string, nth: number, error: Error): jest.SpyInstance {
  const original = (obj[method] as unknown as (...a: unknown[]) => Promise<unknown>).bind(obj);
  let calls = 0;
  return jest.spyOn(obj, method as never).mockImplementation((async (...args: unknown[]) => {
    calls += 1;
    if (calls === nth) throw error;
    return original(...args);
  }) as never);
}

const boom = (what: string) => new Error(`injected ${what} failure`);

/** The answer to an unexpected (non-domain) error: a 500 that hides the error's text. */
async function expectInternal(res: ReturnType<typeof call>): Promise<void> {
  await expectText(res, 500, 'Internal server error');
}

beforeAll(async () => {
  t = await startTestApp();
  await addProject(t, P);
  await addProject(t, 'proj2');
  await importImage(t, P); // 5img1
  await createDisk(t, ALICE, P, 'd1'); // 5img2
  await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's1' })); // 5img3
  await expectOk(call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth0' }));
});
afterAll(() => t.close());

beforeEach(async () => {
  before = await captureState(t);
});
afterEach(async () => {
  jest.restoreAllMocks();
});

async function expectUnchanged(): Promise<void> {
  expect(await captureState(t)).toEqual(before);
}

describe('create_disk', () => {
  const body = { project: P, disk_name: 'd2', img: 'bmi_test' };

  it('clone fails: 500, no row, no image, no target', async () => {
    const spy = jest.spyOn(t.storage, 'clone').mockRejectedValueOnce(boom('clone'));
    await expectInternal(call(t, 'put', '/create_disk', ALICE, body));
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });

  it('addTarget fails: the clone and the row are undone, the error is reported (the original said 200, §8 #1)', async () => {
    const spy = jest.spyOn(t.iscsi, 'addTarget').mockRejectedValueOnce(new IscsiCommandError('tgtadm failed: exit 22'));
    await expectText(call(t, 'put', '/create_disk', ALICE, body), 500, 'tgtadm failed: exit 22');
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
    expect(await t.storage.children('5img1', SNAP)).toEqual(['5img2']);
  });

  it('addTarget finds the target already there: 409 "Target Already Exists", everything undone', async () => {
    jest.spyOn(t.iscsi, 'addTarget').mockRejectedValueOnce(new TargetExistsError('5img9'));
    await expectText(call(t, 'put', '/create_disk', ALICE, body), 409, 'Target Already Exists');
    await expectUnchanged();
  });

  it('after the failures the same request succeeds and gets a fresh id', async () => {
    const target = await createDisk(t, ALICE, P, 'd2');
    expect(target).toBe((await imageRow(t, P, 'd2')).cephName);
    expect(await t.storage.parentOf(target)).toMatchObject({ image: '5img1', snapshot: SNAP });
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd2' }), 200, 'Success');
  });
});

describe('delete_disk', () => {
  it('removing the clone is refused (busy): row (same id) and target are put back (the original lost them, §8 #2)', async () => {
    const spy = jest.spyOn(t.storage, 'removeImage').mockRejectedValueOnce(new RbdImageBusyError('5img2 is Busy'));
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd1' }), 409, 'd1 is Busy');
    expect(spy).toHaveBeenCalledWith('5img2');
    await expectUnchanged();
  });

  it('removing the target fails: nothing changes', async () => {
    const spy = jest.spyOn(t.iscsi, 'removeTarget').mockRejectedValueOnce(boom('removeTarget'));
    await expectInternal(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd1' }));
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });
});

describe('create_snapshot', () => {
  const body = { project: P, disk_name: 'd1', snap_name: 's2' };

  it('protecting the temporary snapshot on the disk fails: no snapshot is left on the disk', async () => {
    const spy = jest.spyOn(t.storage, 'protectSnapshot').mockRejectedValueOnce(boom('protect'));
    await expectInternal(call(t, 'put', '/create_snapshot/', ALICE, body));
    expect(spy).toHaveBeenCalledWith('5img2', SNAP);
    await expectUnchanged();
    expect(await t.storage.listSnapshots('5img2')).toEqual([]);
  });

  it('cloning the disk fails: row, new image and the disk snapshot are undone', async () => {
    const spy = jest.spyOn(t.storage, 'clone').mockRejectedValueOnce(boom('clone'));
    await expectInternal(call(t, 'put', '/create_snapshot/', ALICE, body));
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });

  it('flattening the new image fails: everything undone', async () => {
    const spy = jest.spyOn(t.storage, 'flatten').mockRejectedValueOnce(boom('flatten'));
    await expectInternal(call(t, 'put', '/create_snapshot/', ALICE, body));
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });

  it("protecting the new image's own snapshot (the second protect) fails: everything undone", async () => {
    const spy = failNthCall(
      t.storage,
      'protectSnapshot',
      2,
      new RbdImageBusyError('5img4 is Busy (Could have Clones)'),
    );
    const r = await call(t, 'put', '/create_snapshot/', ALICE, body);
    expect(r.status).toBe(409);
    expect(spy).toHaveBeenCalledTimes(2);
    await expectUnchanged();
  });

  it('unprotecting the disk snapshot at the end fails: everything undone, the disk snapshot removed', async () => {
    const spy = jest.spyOn(t.storage, 'unprotectSnapshot').mockRejectedValueOnce(boom('unprotect'));
    await expectInternal(call(t, 'put', '/create_snapshot/', ALICE, body));
    expect(spy).toHaveBeenCalledWith('5img2', SNAP);
    await expectUnchanged();
  });

  it('removing the disk snapshot at the end fails (after its unprotect): everything undone', async () => {
    const spy = jest.spyOn(t.storage, 'removeSnapshot').mockRejectedValueOnce(boom('removeSnapshot'));
    await expectInternal(call(t, 'put', '/create_snapshot/', ALICE, body));
    expect(spy).toHaveBeenCalledWith('5img2', SNAP);
    await expectUnchanged();
  });

  it('twice on the same disk works: no snapshot is left on the disk (the original\'s "Already Exists", §8 #12)', async () => {
    for (const name of ['s2', 's3']) {
      await expectText(
        call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: name }),
        200,
        'Success',
      );
      expect(await t.storage.listSnapshots('5img2')).toEqual([]);
    }
    const r = await expectOk(call(t, 'post', '/list_snapshots/', ALICE, { project: P }));
    expect(JSON.parse(r.text)).toEqual([
      ['s1', 'bmi_test'],
      ['s2', 'bmi_test'],
      ['s3', 'bmi_test'],
    ]);
    for (const name of ['s2', 's3']) {
      const row = await imageRow(t, P, name);
      expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: SNAP, protected: true }]);
      expect(await t.storage.parentOf(row.cephName)).toBeNull();
      await expectOk(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: name }));
    }
  });

  it('a protected snapshot left on the disk by a crashed run is healed, and the snapshot is made', async () => {
    await t.storage.createSnapshot('5img2', SNAP);
    await t.storage.protectSnapshot('5img2', SNAP);
    await expectText(
      call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's4' }),
      200,
      'Success',
    );
    expect(await t.storage.listSnapshots('5img2')).toEqual([]);
    await expectOk(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 's4' }));
    await expectUnchanged();
  });

  it('a leftover disk snapshot that has clones is not touched: 409, nothing changes', async () => {
    await t.storage.createSnapshot('5img2', SNAP);
    await t.storage.protectSnapshot('5img2', SNAP);
    await t.storage.clone('5img2', SNAP, 'someone_elses_clone');
    const withLeftover = await captureState(t);
    const r = await call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's5' });
    expect(r.status).toBe(409);
    expect(r.text).toContain('someone_elses_clone');
    expect(await captureState(t)).toEqual(withLeftover);
    // clean up behind BMI's back again
    await t.storage.removeImage('someone_elses_clone');
    await t.storage.unprotectSnapshot('5img2', SNAP);
    await t.storage.removeSnapshot('5img2', SNAP);
    await expectUnchanged();
  });
});

describe('import_image', () => {
  const body = { project: 'proj2', img: 'centos7' };

  it('protecting the snapshot on the source fails: the source keeps no snapshot (issue #122)', async () => {
    const spy = jest.spyOn(t.storage, 'protectSnapshot').mockRejectedValueOnce(boom('protect'));
    await expectInternal(call(t, 'put', '/import_image/', ADMIN, body));
    expect(spy).toHaveBeenCalledWith('centos7', SNAP);
    await expectUnchanged();
    expect(await t.storage.listSnapshots('centos7')).toEqual([]);
  });

  it('clone fails: no row, no copy, no snapshot left on the source', async () => {
    const spy = jest.spyOn(t.storage, 'clone').mockRejectedValueOnce(boom('clone'));
    await expectInternal(call(t, 'put', '/import_image/', ADMIN, body));
    expect(spy).toHaveBeenCalledWith('centos7', SNAP, expect.stringMatching(/^5img\d+$/));
    await expectUnchanged();
  });

  it('flatten fails: everything undone', async () => {
    const spy = jest.spyOn(t.storage, 'flatten').mockRejectedValueOnce(boom('flatten'));
    await expectInternal(call(t, 'put', '/import_image/', ADMIN, body));
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });

  it("protecting the copy's snapshot (the second protect) fails: everything undone", async () => {
    const spy = failNthCall(t.storage, 'protectSnapshot', 2, boom('protect'));
    await expectInternal(call(t, 'put', '/import_image/', ADMIN, body));
    expect(spy).toHaveBeenCalledTimes(2);
    await expectUnchanged();
  });

  it('the import then succeeds (nothing was left to make it fail with "Already Exists")', async () => {
    await expectText(call(t, 'put', '/import_image/', ADMIN, body), 200, 'Success');
    const row = await imageRow(t, 'proj2', 'centos7');
    expect(await t.storage.listSnapshots(row.cephName)).toEqual([{ name: SNAP, protected: true }]);
    expect(await t.storage.listSnapshots('centos7')).toEqual([]);
    await expectOk(call(t, 'delete', '/remove_image/', ADMIN, { project: 'proj2', img: 'centos7' }));
    await expectUnchanged();
  });

  it('a source that still carries a BMI snapshot from a crash: 409 with advice, nothing changes', async () => {
    await t.storage.createSnapshot('centos7', SNAP);
    const withLeftover = await captureState(t);
    const r = await call(t, 'put', '/import_image/', ADMIN, body);
    expect(r.status).toBe(409);
    expect(r.text).toContain(`--snap ${SNAP}`);
    expect(await captureState(t)).toEqual(withLeftover);
    await t.storage.removeSnapshot('centos7', SNAP);
  });
});

describe('copy_image', () => {
  const same = { project: P, img: 'bmi_test', dest_project: P, new_name: 'copy' };
  const cross = { project: P, img: 's1', dest_project: 'proj2' };

  it.each([
    ['clone', 1],
    ['flatten', 1],
    ['protectSnapshot', 1],
  ] as const)('%s fails in a same-project copy: no row, no image', async (method, nth) => {
    const spy = failNthCall(t.storage, method, nth, boom(method));
    await expectInternal(call(t, 'put', '/copy_image/', ALICE, same));
    expect(spy).toHaveBeenCalled();
    await expectUnchanged();
  });

  it.each(['clone', 'flatten', 'protectSnapshot'] as const)(
    '%s fails in a cross-project copy (admin): no row, no image',
    async (method) => {
      const spy = jest.spyOn(t.storage, method).mockRejectedValueOnce(boom(method));
      await expectInternal(call(t, 'put', '/copy_image/', ADMIN, cross));
      expect(spy).toHaveBeenCalledTimes(1);
      await expectUnchanged();
    },
  );
});

describe('remove_image', () => {
  /** gold2: a golden image whose only descendant is the snapshot row s9 (its disk is gone). */
  async function goldWithSnapshotChild(): Promise<void> {
    await expectOk(
      call(t, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'gold2' }),
    );
    await createDisk(t, ALICE, P, 'tmpdisk', 'gold2');
    await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'tmpdisk', snap_name: 's9' }));
    await expectOk(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'tmpdisk' }));
    expect(await imageRow(t, P, 's9')).toMatchObject({ isSnapshot: true, parent: 'gold2' });
  }

  it('removing the Ceph image is refused (busy): the row (same id), its snapshot children and its protected @snapshot come back', async () => {
    await goldWithSnapshotChild();
    before = await captureState(t);
    const gold = await imageRow(t, P, 'gold2');
    const spy = jest.spyOn(t.storage, 'removeImage').mockRejectedValueOnce(new RbdImageBusyError('gold2 is Busy'));
    expect((await call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'gold2' })).status).toBe(409);
    expect(spy).toHaveBeenCalledWith(gold.cephName);
    await expectUnchanged();
    expect(await t.storage.listSnapshots(gold.cephName)).toEqual([{ name: SNAP, protected: true }]);
  });

  it('unprotecting fails: nothing changes', async () => {
    const spy = jest.spyOn(t.storage, 'unprotectSnapshot').mockRejectedValueOnce(new RbdImageBusyError('busy'));
    const r = await call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'gold2' });
    expect(r.status).toBe(409);
    expect(spy).toHaveBeenCalledTimes(1);
    await expectUnchanged();
  });

  it('then succeeds: the snapshot child becomes a plain image of its own', async () => {
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'gold2' }), 200, 'Success');
    expect(await imageRow(t, P, 's9')).toMatchObject({ isSnapshot: false, parent: '' });
    await expectOk(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 's9' }));
  });

  it("the Ceph image was removed behind BMI's back: remove_image still succeeds and removes the row (issue #122)", async () => {
    await expectOk(
      call(t, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'ghost' }),
    );
    const ghost = await imageRow(t, P, 'ghost');
    await t.storage.unprotectSnapshot(ghost.cephName, SNAP);
    await t.storage.removeSnapshot(ghost.cephName, SNAP);
    await t.storage.removeImage(ghost.cephName);
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'ghost' }), 200, 'Success');
    expect((await allImages(t)).map((r) => r.name)).not.toContain('ghost');
    await expectUnchanged();
  });
});

describe("delete_disk of things removed behind BMI's back", () => {
  it('the target is already gone: the disk is still deleted', async () => {
    const target = await createDisk(t, ALICE, P, 'half1');
    await t.iscsi.removeTarget(target);
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'half1' }), 200, 'Success');
    expect(await t.storage.imageExists(target)).toBe(false);
    await expectUnchanged();
  });

  it('the clone is already gone: the disk is still deleted', async () => {
    const target = await createDisk(t, ALICE, P, 'half2');
    await t.storage.removeImage(target);
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'half2' }), 200, 'Success');
    await expectUnchanged();
  });
});

describe('boot files', () => {
  it('provision again, the second file fails to write: the first is restored to its previous content', async () => {
    const store = t.app.get(BootFileStore);
    await createDisk(t, ALICE, P, 'd5');
    const withDisk = await captureState(t);
    expect(withDisk.files.find((f) => f.path === 'node-01.ipxe')?.content).toBe(expectedIpxe('5img2'));
    const spy = failNthCall(store, 'put', 2, boom('write'));
    await expectInternal(
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd5', nic: 'eth0' }),
    );
    expect(spy).toHaveBeenCalledTimes(3); // two writes, then the undo of the first
    expect(await captureState(t)).toEqual(withDisk);
    await expectOk(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd5' }));
    await expectUnchanged();
  });

  it('deprovision, the second file fails to go: the first is put back', async () => {
    const store = t.app.get(BootFileStore);
    const spy = failNthCall(store, 'remove', 2, boom('unlink'));
    await expectInternal(call(t, 'delete', '/deprovision/', ALICE, { project: P, node: 'node-01', nic: 'eth0' }));
    expect(spy).toHaveBeenCalledTimes(2);
    await expectUnchanged();
    expect((await listFiles(t.tftpRoot)).map((f) => [f.path, f.mode])).toEqual([
      ['node-01.ipxe', 0o755],
      ['pxelinux.cfg/01-52-54-00-12-34-56', 0o644],
    ]);
  });
});

describe('the fixture survived every failure', () => {
  it('DB, pool, targets and boot files are those of the setup', async () => {
    expect((await allImages(t)).map((r) => [r.name, r.cephName, r.parent, r.isSnapshot])).toEqual([
      ['bmi_test', '5img1', '', false],
      ['d1', '5img2', 'bmi_test', false],
      ['s1', '5img3', 'bmi_test', true],
    ]);
    const pool = await storageState(t);
    expect(pool.map((i) => i.image)).toEqual(['5img1', '5img2', '5img3', 'bmi_test', 'centos7']);
    expect(await t.iscsi.listTargets()).toEqual([{ name: '5img2', image: '5img2' }]);
    expect((await listFiles(t.tftpRoot)).map((f) => f.content)).toEqual([
      expectedIpxe('5img2'),
      expect.stringContaining('INITRD node-01.ipxe'),
    ]);
  });
});

describe('concurrent requests', () => {
  let c: TestApp;
  beforeEach(async () => {
    c = await startTestApp();
    await addProject(c, P);
    await importImage(c, P);
  });
  afterEach(() => c.close());

  /** DB and pool agree: one BMI image per row, one row per BMI image, every target backed by a row. */
  async function expectAgreement(app: TestApp): Promise<void> {
    const rows = await allImages(app);
    const pool = (await app.storage.listImages()).filter((i) => /^5img\d+$/.test(i));
    expect(pool.sort()).toEqual(rows.map((r) => r.cephName).sort());
    const cephs = new Set(rows.map((r) => r.cephName));
    for (const target of await app.iscsi.listTargets()) expect(cephs.has(target.image)).toBe(true);
    for (const r of rows.filter((x) => x.parent !== '' && !x.isSnapshot)) {
      const parent = rows.find((p) => p.project === r.project && p.name === r.parent)!;
      expect(await app.storage.parentOf(r.cephName)).toMatchObject({ image: parent.cephName });
    }
  }

  it('two create_disk with the same name at once: one 200, one 409, and DB, pool and targets agree', async () => {
    const body = { project: P, disk_name: 'twin', img: 'bmi_test' };
    const rs = await Promise.all([0, 1].map(() => call(c, 'put', '/create_disk', ALICE, body)));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = rs.find((r) => r.status === 200)!;
    const row = await imageRow(c, P, 'twin');
    expect(winner.text).toBe(`"${row.cephName}"`);
    expect((await c.iscsi.listTargets()).map((x) => x.name)).toEqual([row.cephName]);
    await expectAgreement(c);
  });

  it('many different writes at once all succeed and leave DB, pool and targets in agreement', async () => {
    await createDisk(c, ALICE, P, 'base');
    const rs = await Promise.all([
      ...['a', 'b', 'c', 'd'].map((n) =>
        call(c, 'put', '/create_disk', ALICE, { project: P, disk_name: n, img: 'bmi_test' }),
      ),
      call(c, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'base', snap_name: 'snap' }),
      call(c, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'copy' }),
      call(c, 'put', '/import_image/', ADMIN, { project: P, img: 'centos7' }),
    ]);
    expect(rs.map((r) => [r.status, r.status === 200 ? '' : r.text])).toEqual(rs.map(() => [200, '']));
    expect((await allImages(c)).map((r) => r.name).sort()).toEqual(
      ['a', 'b', 'base', 'bmi_test', 'c', 'centos7', 'copy', 'd', 'snap'].sort(),
    );
    await expectAgreement(c);
  });

  it('two snapshots of one disk at once both succeed and leave no temporary snapshot', async () => {
    await createDisk(c, ALICE, P, 'busy');
    const rs = await Promise.all(
      ['s1', 's2'].map((snap_name) =>
        call(c, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'busy', snap_name }),
      ),
    );
    expect(rs.map((r) => [r.status, r.text])).toEqual([
      [200, 'Success'],
      [200, 'Success'],
    ]);
    const disk = await imageRow(c, P, 'busy');
    expect(await c.storage.listSnapshots(disk.cephName)).toEqual([]);
    for (const snap of ['s1', 's2']) {
      const row = await imageRow(c, P, snap);
      expect(await c.storage.listSnapshots(row.cephName)).toEqual([{ name: 'bmi_snapshot', protected: true }]);
    }
    await expectAgreement(c);
  });

  it('remove_image racing create_disk from it: either the disk exists or the image is gone, never both halves', async () => {
    const rs = await Promise.all([
      call(c, 'put', '/create_disk', ALICE, { project: P, disk_name: 'late', img: 'bmi_test' }),
      call(c, 'delete', '/remove_image/', ALICE, { project: P, img: 'bmi_test' }),
    ]);
    const [create, remove] = rs.map((r) => r.status);
    // Whoever gets the image first wins; the other is refused cleanly.
    expect([create, remove].sort()).toEqual(create === 200 ? [200, 409] : [200, 404]);
    const names = (await allImages(c)).map((r) => r.name).sort();
    expect(names).toEqual(create === 200 ? ['bmi_test', 'late'] : []);
    await expectAgreement(c);
  });

  it('delete_project racing an import into it leaves either the project with its image or neither', async () => {
    await expectOk(call(c, 'put', '/add_project/', ADMIN, { project: 'bmi_infra', name: 'proj2' }));
    const rs = await Promise.all([
      call(c, 'put', '/import_image/', ADMIN, { project: 'proj2', img: 'centos7' }),
      call(c, 'delete', '/delete_project/', ADMIN, { project: 'bmi_infra', name: 'proj2' }),
    ]);
    const rows = (await allImages(c)).filter((r) => r.project === 'proj2');
    if (rs[1].status === 200) {
      expect(rs[0].status).not.toBe(200);
      expect(rows).toEqual([]);
    } else {
      expect(rs.map((r) => r.status)).toEqual([200, 409]);
      expect(rows.map((r) => r.name)).toEqual(['centos7']);
    }
    await expectAgreement(c);
  });

  it('create_disk racing a failing create_disk of a taken name keeps its row', async () => {
    await createDisk(c, ALICE, P, 'taken');
    const rs = await Promise.all([
      call(c, 'put', '/create_disk', ALICE, { project: P, disk_name: 'fresh', img: 'bmi_test' }),
      call(c, 'put', '/copy_image/', ALICE, { project: P, img: 'bmi_test', dest_project: P, new_name: 'taken' }),
    ]);
    expect(rs.map((r) => r.status)).toEqual([200, 409]);
    await imageRow(c, P, 'fresh');
    await expectAgreement(c);
  });
});

describe('raw names shaped like BMI image names', () => {
  let c: TestApp;
  beforeAll(async () => {
    c = await startTestApp({ fakeImages: ['bmi_test', '5img77'] });
    await addProject(c, P);
    await importImage(c, P);
  });
  afterAll(() => c.close());

  it.each([
    ['export_image', { img: 'bmi_test', name: '5img99' }],
    ['import_image', { img: '5img77' }],
    ['import_image', { img: '5img77', snap: 'x', protect: 'true' }],
  ])('%s with %j is refused with 400, nothing made', async (route, fields) => {
    const before = await c.storage.listImages();
    const rowsBefore = await allImages(c);
    const r = await call(c, 'put', `/${route}/`, ADMIN, { project: P, ...fields });
    expect([r.status, r.text]).toEqual([
      400,
      expect.stringMatching(/^5img\d+ is reserved: BMI names its own images 5img<id>$/),
    ]);
    expect(await c.storage.listImages()).toEqual(before);
    expect(await allImages(c)).toEqual(rowsBefore);
  });
});
