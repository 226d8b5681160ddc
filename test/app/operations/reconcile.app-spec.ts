/**
 * The reconciler over the whole app (fake drivers, real SQLite): every kind of drift is planted behind BMI's
 * back, reported by kind, and repaired by `fix` when it is safe; what a row names, what BMI cannot attribute,
 * and what a running operation is making are never removed.
 */
import { Logger } from '@nestjs/common';
import { sagaFaults, SimulatedCrash } from '../../../src/common/orchestration/saga';
import { TypeOrmOperationJournal } from '../../../src/modules/operations/operation-journal.service';
import { dieAndRecover, failOn } from '../../utils/faults';
import { DRIFT_KINDS, DriftKind, ReconcileService } from '../../../src/modules/reconcile/reconcile.service';
import { ADMIN, ALICE, startTestApp, TestApp } from '../../utils/test-app';
import { addProject, call, createDisk, expectOk, imageRow, importImage } from '../../utils/e2e';

const P = 'proj1';
const SNAP = 'bmi_snapshot';
let t: TestApp;
let reconciler: ReconcileService;

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({ fakeImages: ['bmi_test', 'raw2'] });
  reconciler = t.app.get(ReconcileService);
  await addProject(t, P);
  await importImage(t, P); // 5img1
  await createDisk(t, ALICE, P, 'd1'); // 5img2
  await createDisk(t, ALICE, P, 'd2'); // 5img3
  await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's1' })); // 5img4
  await expectOk(call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd2', nic: 'eth0' }));
});
afterEach(async () => {
  sagaFaults.at = undefined;
  jest.restoreAllMocks();
  await t.close();
});

const kinds = async (fix = false) =>
  (await reconciler.reconcile({ fix })).drift.map(
    (d) => `${d.kind} ${d.subject}${fix ? ` ${String(d.repaired)}` : ''}`,
  );

it('a consistent BMI has no drift, and says what it checked', async () => {
  const report = await reconciler.reconcile();
  expect(report.drift).toEqual([]);
  expect(report.checked).toEqual({ rows: 4, images: 4, targets: 2, bootFiles: 1 });
});

it('finds each planted drift by kind, repairs the safe ones, and leaves the rest for an operator', async () => {
  const s = t.storage;
  // an orphan BMI made (marked by an operation that did not complete), and an image named like BMI's that it
  // did not make
  await s.clone('5img1', SNAP, '5img90');
  await s.setMetadata('5img90', { bmi_uid: '5', bmi_operation: await failedOperation(), bmi_source: `5img1@${SNAP}` });
  await s.createImage('5img91', 1 << 20);
  // the snapshot image s1 (nothing cloned from it) loses its protected BMI snapshot
  await s.unprotectSnapshot('5img4', SNAP);
  await s.removeSnapshot('5img4', SNAP);
  // a snapshot left on a disk
  await s.createSnapshot('5img2', SNAP);
  // d1's target is gone (a tgtd restart); d2's exports another image
  await t.iscsi.removeTarget('5img2');
  await t.iscsi.removeTarget('5img3');
  await t.iscsi.addTarget({ name: '5img3', image: '5img1' });
  // a target of BMI's golden image that no row wants; and another tool's target, not BMI's business
  await t.iscsi.addTarget({ name: 'stray', image: '5img1' });
  await t.iscsi.addTarget({ name: 'other-tool', image: 'raw2' });

  expect(await kinds()).toEqual(
    [
      'orphan_image 5img90',
      'unattributed_image 5img91',
      'missing_target 5img2',
      'wrong_target 5img3',
      'unknown_target stray',
      'missing_snapshot proj1/s1 (5img4)',
      'leftover_snapshot proj1/d1 (5img2)',
    ].sort((a, b) => order(a) - order(b)),
  );

  const fixed = await kinds(true);
  expect(fixed).toEqual(
    expect.arrayContaining([
      'orphan_image 5img90 true',
      'missing_target 5img2 true',
      'missing_snapshot proj1/s1 (5img4) true',
      'leftover_snapshot proj1/d1 (5img2) true',
      'unattributed_image 5img91 undefined',
      'wrong_target 5img3 undefined',
      'unknown_target stray undefined',
    ]),
  );
  expect(await s.imageExists('5img90')).toBe(false);
  expect(await s.imageExists('5img91')).toBe(true);
  expect(await s.listSnapshots('5img4')).toEqual([{ name: SNAP, protected: true }]);
  expect(await s.listSnapshots('5img2')).toEqual([]);
  expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain('5img2');
  // what is left is what only an operator can decide
  expect(await kinds()).toEqual(['unattributed_image 5img91', 'wrong_target 5img3', 'unknown_target stray']);
});

/** The id of an operation that was rolled back (a create_disk whose clone failed). */
async function failedOperation(): Promise<string> {
  failOn(t.storage, 'clone');
  await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'never', img: 'bmi_test' });
  const [op] = await t.app.get(TypeOrmOperationJournal).list({ state: 'rolled_back' });
  return op.id;
}

it('an orphan made by an operation that completed (its row removed on purpose, delete_image) is reported, kept', async () => {
  await expectOk(call(t, 'delete', '/delete_image/', ADMIN, { project: P, img: 's1' }));
  expect(await kinds()).toEqual(['orphan_image 5img4']);
  expect(await kinds(true)).toEqual(['orphan_image 5img4 undefined']);
  expect(await t.storage.imageExists('5img4')).toBe(true);
});

/** The order the report lists drift in: by kind. */
function order(line: string): number {
  return DRIFT_KINDS.indexOf(line.split(' ')[0] as DriftKind);
}

it('a row without its image, a blank disk, and a boot file naming a gone disk are reported, never "fixed"', async () => {
  const s = t.storage;
  // s1's image vanishes; d1's image is replaced by a blank one
  await s.unprotectSnapshot('5img4', SNAP);
  await s.removeSnapshot('5img4', SNAP);
  await s.removeImage('5img4');
  await t.iscsi.removeTarget('5img2');
  await s.removeImage('5img2');
  await s.createImage('5img2', 1 << 20);
  await t.iscsi.addTarget({ name: '5img2', image: '5img2' });
  // d2 is deleted while node-01 still boots from it
  await expectOk(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd2' }));

  expect(await kinds()).toEqual(
    ['wrong_parent proj1/d1 (5img2)', 'row_without_image proj1/s1 (5img4)', 'stale_boot_file node-01.ipxe'].sort(
      (a, b) => order(a) - order(b),
    ),
  );
  await kinds(true);
  expect(await imageRow(t, P, 's1')).toMatchObject({ name: 's1' });
  expect(await s.imageExists('5img2')).toBe(true);
});

it('an interrupted operation is drift until recovery; fix recovers it', async () => {
  sagaFaults.at = (kind, n, point) => {
    if (kind === 'create_disk' && n === 2 && point === 'ran') throw new SimulatedCrash('create_disk after the clone');
  };
  await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd3', img: 'bmi_test' });
  sagaFaults.at = undefined;
  // while its operation runs (lease held), the half-made disk is work in progress, not drift
  expect(await kinds()).toEqual([]);

  await dieAndRecover(t, false);
  const journal = t.app.get(TypeOrmOperationJournal);
  const [op] = await journal.list({ state: 'interrupted' });
  expect(await kinds()).toEqual([`interrupted_operation operation ${op.id}`]);

  expect(await kinds(true)).toEqual([]);
  expect(await journal.list({ state: 'interrupted' })).toEqual([]);
  expect(await t.storage.imageExists('5img5')).toBe(false);
  expect(await reconciler.reconcile()).toMatchObject({ drift: [] });
});

it('through the route and for admins only', async () => {
  await t.storage.createImage('5img91', 1 << 20);
  const res = await expectOk(call(t, 'post', '/reconcile/', ADMIN, { project: P, fix: 'true' }));
  expect(JSON.parse(res.text)).toMatchObject({
    fixed: true,
    drift: [{ kind: 'unattributed_image', subject: '5img91', image: '5img91' }],
  });
  expect((await call(t, 'post', '/reconcile/', ALICE, { project: P })).status).toBe(403);
});
