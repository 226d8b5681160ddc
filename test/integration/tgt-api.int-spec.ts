import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CommandRunner } from '../../src/common/process/command-runner';
import { TargetReconciler } from '../../src/modules/images/target-reconciler.service';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { cephAppEnv } from '../utils/ceph-env';
import { freePort } from '../utils/server-process';
import { addProject, call, createDisk, expectOk, expectText, imageRow } from '../utils/e2e';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import { canLogIn, describeWithTgt, lunSize, TgtEnv, tgtHas, tgtShow } from '../utils/tgt-env';

const P = 'proj1';
const MiB = 1 << 20;
const PREFIX = 'iqn.2026-11.org.bmi.test:';
const ROOT = path.resolve(__dirname, '../..');

/** The whole app on the real Ceph and a real tgtd, with a uid of its own (other test files share both). */
function tgtAppEnv(env: TgtEnv, uid: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...cephAppEnv(env.ceph, uid),
    BMI_ISCSI_TGT_CONTROL_PORT: String(env.controlPort),
    BMI_ISCSI_TARGET_PREFIX: PREFIX,
    BMI_ISCSI_RECONCILE_SECONDS: '0',
    ...extra,
  };
}

const freshUid = () => `t${randomBytes(4).toString('hex')}`;

/**
 * scripts/tgt-local.sh on DIR, its settings printed for eval parsed into an object. The shared tgtd's
 * TGT_CONTROL_PORT and TGT_PORTAL are not passed on: DIR's own settings apply unless given here.
 */
function tgtLocal(cmd: 'up' | 'down' | 'purge', dir: string, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out = execFileSync(path.join(ROOT, 'scripts/tgt-local.sh'), [cmd, dir], {
    encoding: 'utf8',
    env: { ...process.env, TGT_CONTROL_PORT: '', TGT_PORTAL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describeWithTgt('create_disk and delete_disk through the API with real tgt targets on real RBD clones', (env) => {
  let t: TestApp;
  let ceph: CephRbdStorage;
  let uid: string;
  let raw: string;

  beforeAll(async () => {
    ceph = await CephRbdStorage.connect({ ...env.ceph, timeoutSeconds: 20 });
    uid = freshUid();
    raw = `raw-${uid}`;
    await ceph.createImage(raw, 48 * MiB);
    t = await startTestApp({ env: tgtAppEnv(env, uid) });
    await addProject(t, P);
    await expectText(call(t, 'put', '/import_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
  });

  afterAll(async () => {
    await t?.close();
    if (await ceph.imageExists(raw)) await ceph.removeImage(raw);
    await ceph.close();
  });

  it('create_disk: answers the IQN; tgtd exports the clone as LUN 1, and an initiator reads its size', async () => {
    const target = await createDisk(t, ALICE, P, 'd1', raw);
    const d1 = await imageRow(t, P, 'd1');
    expect(target).toBe(`${PREFIX}${d1.cephName}`);
    expect(tgtHas(env.controlPort, target)).toBe(true);
    expect(tgtShow(env.controlPort)).toContain(`Backing store path: ${env.ceph.pool}/${d1.cephName}`);
    expect(lunSize(env.portal, target)).toBe(48 * MiB);
  });

  it('provision writes that target name into the iPXE script; deprovision removes it', async () => {
    const d1 = await imageRow(t, P, 'd1');
    await expectText(
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth0' }),
      200,
      'Success',
    );
    const script = readFileSync(path.join(t.tftpRoot, 'node-01.ipxe'), 'utf8');
    expect(script).toContain(`sanboot --keep iscsi:10.0.0.1:tcp:3260:1:${PREFIX}${d1.cephName}`);
    await expectText(
      call(t, 'delete', '/deprovision/', ALICE, { project: P, node: 'node-01', nic: 'eth0' }),
      200,
      'Success',
    );
  });

  it('a second create_disk of the same name: 409, and the first target is untouched', async () => {
    const d1 = await imageRow(t, P, 'd1');
    const r = await call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd1', img: raw });
    expect(r.status).toBe(409);
    expect(tgtHas(env.controlPort, `${PREFIX}${d1.cephName}`)).toBe(true);
  });

  it('mount_image, show_mounted, umount_image of the golden image: its target comes and goes in tgtd', async () => {
    const golden = await imageRow(t, P, raw);
    const name = `${PREFIX}${golden.cephName}`;
    const m = await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: raw }));
    expect(JSON.parse(m.text)).toBe(name);
    expect(tgtHas(env.controlPort, name)).toBe(true);
    const shown = await expectOk(call(t, 'post', '/show_mounted/', ADMIN, { project: P }));
    expect(JSON.parse(shown.text)).toEqual({ [raw]: name, d1: `${PREFIX}${(await imageRow(t, P, 'd1')).cephName}` });
    await expectText(call(t, 'delete', '/umount_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
    expect(tgtHas(env.controlPort, name)).toBe(false);
  });

  it('delete_disk: the target is gone from tgtd (no initiator gets in), and so is the clone', async () => {
    const d1 = await imageRow(t, P, 'd1');
    const target = `${PREFIX}${d1.cephName}`;
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'd1' }), 200, 'Success');
    expect(tgtHas(env.controlPort, target)).toBe(false);
    expect(canLogIn(env.portal, target)).toBe(false);
    expect(await ceph.imageExists(d1.cephName)).toBe(false);
  });

  it('remove_image of the golden image leaves nothing of this BMI in the pool or in tgtd', async () => {
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: raw }), 200, 'Success');
    expect((await ceph.listImages()).filter((i) => i.startsWith(`${uid}img`))).toEqual([]);
    expect(tgtShow(env.controlPort)).not.toContain(`${PREFIX}${uid}img`);
  });

  it('create_disk whose target cannot be made (tgtd refuses the LUN): 500, and no row, clone or target is left', async () => {
    // tgtd is told to read a ceph.conf that does not exist (librbd in BMI still has the real one): the LUN fails
    const broken = await startTestApp({ env: tgtAppEnv(env, `${uid}b`) });
    try {
      const runner = broken.app.get(CommandRunner);
      const run = runner.run.bind(runner);
      jest.spyOn(runner, 'run').mockImplementation((argv, opts) =>
        run(
          argv.map((a) => (a.startsWith('conf=') ? a.replace(/^conf=[^;]*/, 'conf=/nonexistent/ceph.conf') : a)),
          opts,
        ),
      );
      await addProject(broken, P);
      await expectText(call(broken, 'put', '/import_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
      const r = await call(broken, 'put', '/create_disk', ALICE, { project: P, disk_name: 'dx', img: raw });
      expect(r.status).toBe(500);
      expect(r.text).not.toMatch(/tgtadm:|invalid request/);
      expect((await call(broken, 'post', '/list_disks/', ALICE, { project: P })).text).toBe('[]');
      expect((await ceph.listImages()).filter((i) => i.startsWith(`${uid}bimg`)).length).toBe(1); // the golden copy
      expect(tgtShow(env.controlPort)).not.toContain(`${uid}bimg`); // no half-made target
      await expectText(call(broken, 'delete', '/remove_image/', ALICE, { project: P, img: raw }), 200, 'Success');
    } finally {
      jest.restoreAllMocks();
      await broken.close();
    }
  });
});

describeWithTgt('targets survive a tgtd restart: the reconciler makes them again', (env) => {
  let dir: string;
  let tgt: { controlPort: number; portal: string };
  let t: TestApp;
  let ceph: CephRbdStorage;
  const uid = freshUid();
  const raw = `raw-${uid}`;

  beforeAll(async () => {
    // a tgtd of this test alone, on a free control port and portal: restarting it disturbs no other test
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-tgt-restart-'));
    const printed = tgtLocal('up', dir, { TGT_PORTAL: `127.0.0.1:${await freePort()}` });
    tgt = { controlPort: Number(printed.TGT_CONTROL_PORT), portal: printed.TGT_PORTAL };
    ceph = await CephRbdStorage.connect({ ...env.ceph, timeoutSeconds: 20 });
    await ceph.createImage(raw, 16 * MiB);
    t = await startTestApp({ env: tgtAppEnv({ ...env, ...tgt }, uid, { BMI_ISCSI_INITIATOR_ACL: 'true' }) });
    await addProject(t, P);
    await expectText(call(t, 'put', '/import_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
  });

  afterAll(async () => {
    await t?.close();
    tgtLocal('purge', dir);
    rmSync(dir, { recursive: true, force: true });
    if (await ceph.imageExists(raw)) await ceph.removeImage(raw);
    await ceph.close();
  });

  it('with initiator_acl each disk lets in only its own initiator name', async () => {
    const target = await createDisk(t, ALICE, P, 'd1', raw);
    expect(canLogIn(tgt.portal, target, `${target}:initiator`)).toBe(true);
    expect(canLogIn(tgt.portal, target, 'iqn.2026-11.org.bmi.test:some-other-node')).toBe(false);
  });

  it('after tgtd is stopped and started again (no targets), a reconcile makes every disk and mount again', async () => {
    const d2 = await createDisk(t, ALICE, P, 'd2', raw);
    await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: raw }));
    const before = await t.iscsi.listTargets();
    expect(before).toHaveLength(3);

    tgtLocal('down', dir);
    expect(tgtLocal('up', dir)).toEqual({ TGT_CONTROL_PORT: String(tgt.controlPort), TGT_PORTAL: tgt.portal });
    expect(tgtShow(tgt.controlPort)).toBe('');
    expect(canLogIn(tgt.portal, d2, `${d2}:initiator`)).toBe(false);

    const report = await t.app.get(TargetReconciler).reconcile();
    expect(report).toMatchObject({ wanted: 3, failed: [], unknown: [], mismatched: [] });
    expect(report!.recreated.sort()).toEqual(before.map((x) => x.name).sort());
    expect(await t.iscsi.listTargets()).toEqual(before);
    expect(canLogIn(tgt.portal, d2, `${d2}:initiator`)).toBe(true);
    expect(lunSize(tgt.portal, d2, `${d2}:initiator`)).toBe(16 * MiB);
  });

  it('cleans up: delete_disk and umount_image leave this tgtd empty', async () => {
    for (const disk of ['d1', 'd2']) {
      await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: disk }), 200, 'Success');
    }
    await expectText(call(t, 'delete', '/umount_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
    expect(tgtShow(tgt.controlPort)).toBe('');
    await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: raw }), 200, 'Success');
  });
});
