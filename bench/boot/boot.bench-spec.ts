/**
 * Boot benchmark: from the API call to the marker on a QEMU node's serial console, for 1, 2, 4 and 8 nodes
 * booting at once from clones of one golden image (BIOS, the original pxelinux chain over TFTP), on the boot
 * tests' machinery (scripts/boot-lib.sh: a provisioning network namespace with dnsmasq and tgtd, the golden
 * image). Each node's time is split into BMI's share (create_disk + provision through the API) and the boot's
 * (QEMU start → BMI-BOOT-OK). Prints a table and writes var/bench/boot.json.
 *   npm run bench:boot [-- --at-once 1,2,4,8]   (scripts/bench-boot.sh sets the environment up)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { addProject, call, createDisk, expectText, importImage } from '../../test/utils/e2e';
import { ALICE, startTestApp, TestApp } from '../../test/utils/test-app';
import {
  Accel,
  BootEnv,
  BootVm,
  bootAppEnv,
  describeWithBoot,
  importGolden,
  probeAccel,
  rbd,
  setIpxeScripts,
} from '../../test/boot/boot-harness';
import { summary, table } from '../stats';

const P = 'benchproj';
const NIC = 'eth0';
const AT_ONCE = (process.env.BENCH_BOOT_AT_ONCE ?? '1,2,4,8').split(',').map(Number);
const NODES = Array.from({ length: Math.max(...AT_ONCE) }, (_, i) => `node-${i}`);
const macOf = (i: number) => `52:54:00:b1:00:${(i + 1).toString(16).padStart(2, '0')}`;
const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: [P] },
  },
  projects: [P],
  nodes: Object.fromEntries(NODES.map((n, i) => [n, { project: P, nics: [{ label: NIC, macaddr: macOf(i) }] }])),
};
const BOOTED = /BMI-BOOT-OK fw=(\w+)/;

interface NodeTiming {
  atOnce: number;
  /** create_disk + provision through the API (ms) */
  bmiMs: number;
  /** QEMU start → marker (ms) */
  bootMs: number;
  /** the create_disk call → marker (ms) */
  apiToMarkerMs: number;
}

describeWithBoot('boot benchmark: nodes booting at once from clones of one golden image', (env: BootEnv) => {
  let t: TestApp;
  let accel: Accel;
  let raw: string;
  const vms: BootVm[] = [];
  const timings: NodeTiming[] = [];

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    accel = probeAccel(env.golden);
    const uid = `bb${randomBytes(3).toString('hex')}`;
    raw = `bench-golden-${uid}`;
    importGolden(env, raw);
    t = await startTestApp({ hilSeed: SEED, env: bootAppEnv(env, uid, 'iqn.2026-11.org.bmi.bench:') });
    await t.app.listen(env.httpUpstream, '127.0.0.1');
    await addProject(t, P);
    await importImage(t, P, raw);
    setIpxeScripts(env, 'tftp');
  }, 120_000);

  afterAll(async () => {
    for (const vm of vms) vm.kill();
    await Promise.all(vms.map((vm) => vm.exited));
    if (t) await call(t, 'delete', '/remove_image/', ALICE, { project: P, img: raw });
    await t?.close();
    try {
      rbd(env.ceph, ['rm', '--no-progress', `${env.ceph.pool}/${raw}`]);
    } catch {
      // the image of BMI's import has clones left only after a failure; the throw-away cluster goes anyway
    }
    const s = (ms: number) => (ms / 1000).toFixed(1);
    const rows = AT_ONCE.filter((n) => timings.some((x) => x.atOnce === n)).map((n) => {
      const mine = timings.filter((x) => x.atOnce === n);
      const bmi = summary(mine.map((x) => x.bmiMs));
      const boot = summary(mine.map((x) => x.bootMs));
      const api = summary(mine.map((x) => x.apiToMarkerMs));
      return [
        String(n),
        s(bmi.p50),
        s(Math.max(...mine.map((x) => x.bmiMs))),
        s(boot.p50),
        s(Math.max(...mine.map((x) => x.bootMs))),
        s(api.p50),
        s(Math.max(...mine.map((x) => x.apiToMarkerMs))),
      ];
    });
    const text = table(
      ['at once', 'BMI p50 s', 'BMI max s', 'boot p50 s', 'boot max s', 'API → marker p50 s', 'last marker s'],
      rows,
    );
    console.log(`boot benchmark (${accel}; BMI = create_disk + provision, boot = QEMU start → marker):\n${text}`);
    const out = path.resolve(__dirname, '../../var/bench/boot.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), accel, timings, table: text }, null, 2));
    jest.restoreAllMocks();
  }, 120_000);

  async function bootOne(i: number, atOnce: number): Promise<void> {
    const node = NODES[i];
    const disk = `d${atOnce}-${i}`;
    const t0 = Date.now();
    await createDisk(t, ALICE, P, disk, raw);
    await expectText(
      call(t, 'put', '/provision/', ALICE, { project: P, node, disk_name: disk, nic: NIC }),
      200,
      'Success',
    );
    const t1 = Date.now();
    const vm = new BootVm(env, node, macOf(i), 'bios', accel);
    vms.push(vm);
    const booted = await vm.waitFor(BOOTED);
    vm.kill();
    await vm.exited;
    timings.push({ atOnce, bmiMs: t1 - t0, bootMs: booted.at, apiToMarkerMs: booted.wall - t0 });
    await expectText(call(t, 'delete', '/deprovision/', ALICE, { project: P, node, nic: NIC }), 200, 'Success');
    await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: disk }), 200, 'Success');
  }

  for (const atOnce of AT_ONCE) {
    it(`${atOnce} node(s) at once boot their own disk`, async () => {
      await Promise.all(Array.from({ length: atOnce }, (_, i) => bootOne(i, atOnce)));
      expect(timings.filter((x) => x.atOnce === atOnce)).toHaveLength(atOnce);
    }, 600_000);
  }
});
