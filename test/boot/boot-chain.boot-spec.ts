import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { runCli } from '../../src/cli/program';
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { FakePowerDriver } from '../../src/modules/power/drivers/fake-power.driver';
import { PowerDriver } from '../../src/modules/power/power.driver';
import { addProject, call, createDisk, expectOk, expectText, imageRow, importImage } from '../utils/e2e';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import { tgtShow } from '../utils/tgt-env';
import {
  Accel,
  BootEnv,
  BootTiming,
  BootVm,
  bootAppEnv,
  describeWithBoot,
  importGolden,
  Firmware,
  probeAccel,
  rbd,
  setIpxeScripts,
  tgtPortals,
  tgtTargets,
  timingTable,
} from './boot-harness';

/**
 * The whole boot chain, end to end: BMI's REST API makes a disk (an RBD clone of a golden image, exported by a
 * real tgtd) and provisions a node (boot files in dnsmasq's TFTP root); a QEMU node with that node's MAC
 * PXE-boots in the provisioning network namespace and comes up on its disk:
 *   BIOS: SeaBIOS + iPXE ROM -> pxelinux.0 -> pxelinux.cfg/01-<mac> -> ipxe.lkrn + <node>.ipxe -> sanboot
 *   UEFI: OVMF's own PXE -> snponly.efi -> mac/<mac>.ipxe over TFTP -> sanboot -> systemd-boot
 *   HTTP: iPXE (ROM or snponly.efi) -> GET http://<bridge>/boot/ipxe?mac=… from BMI -> sanboot
 * The golden image's init prints BMI-BOOT-OK, then logs in to its own disk again from Linux (iBFT + iscsistart,
 * with the initiator name the target's ACL lets in), writes a note and prints BMI-DISKLESS-OK with the note it
 * found, then powers off. The last nodes are booted the way a tenant would: one `bmi boot` of four nodes (disk,
 * boot files and a power cycle each, which starts its QEMU machine), then one `bmi release`.
 */
const P = 'bootproj';
const NIC = 'eth0';
const PREFIX = 'iqn.2026-11.org.bmi.boot:';
const NODES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f', 'node-g', 'node-h', 'node-i'];
const macOf = (node: string) => `52:54:00:b0:00:${(NODES.indexOf(node) + 1).toString(16).padStart(2, '0')}`;

const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: [P] },
  },
  projects: [P],
  nodes: Object.fromEntries(NODES.map((n) => [n, { project: P, nics: [{ label: NIC, macaddr: macOf(n) }] }])),
};

const BOOTED = /BMI-BOOT-OK fw=(\w+)/;
/** the golden image again, uploaded as a qcow2 file */
const UPLOADED = 'golden-qcow2';
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const DISKLESS = /BMI-DISKLESS-(OK|FAILED).*/;

describeWithBoot('a node PXE-boots from the disk BMI made: PXE, iPXE, iSCSI (tgt), RBD clone', (env: BootEnv) => {
  let t: TestApp;
  let accel: Accel;
  let raw: string;
  let uid: string;
  const vms: BootVm[] = [];
  const timings: BootTiming[] = [];

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // the tgtd BMI manages here must be the namespace's, the one whose portal the nodes reach
    expect(tgtPortals(env.tgtControlPort)).toContain(env.tgtPortal);
    accel = probeAccel(env.golden);
    uid = `b${randomBytes(3).toString('hex')}`;
    raw = `boot-golden-${uid}`;
    importGolden(env, raw);
    t = await startTestApp({ hilSeed: SEED, env: bootAppEnv(env, uid, PREFIX) });
    await t.app.listen(env.httpUpstream, '127.0.0.1');
    await addProject(t, P);
    await importImage(t, P, raw);
  }, 120_000);

  afterAll(async () => {
    for (const vm of vms) vm.kill();
    await Promise.all(vms.map((vm) => vm.exited));
    if (t) await leaveNothing();
    await t?.close();
    try {
      rbd(env.ceph, ['rm', '--no-progress', `${env.ceph.pool}/${raw}`]);
    } catch {
      // removed with the throw-away cluster
    }
    if (timings.length) {
      console.log(`boot timings (${accel}):\n${timingTable(timings, accel)}`);
    }
    jest.restoreAllMocks();
  }, 60_000);

  /** `bmi -f json <args>` as alice, in-process, against this BMI. */
  async function bmi(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const home = path.join(env.dir, 'home');
    const vars = { BMI_URL: `http://127.0.0.1:${env.httpUpstream}`, HIL_USERNAME: 'alice', HIL_PASSWORD: 'alicepass' };
    const code = await runCli(['node', 'bmi', '-f', 'json', ...args], {
      env: { ...vars, HOME: home },
      stdout: { write: (x: string) => (out += x) },
      stderr: { write: (x: string) => (err += x) },
    });
    return { code, out, err };
  }

  /** After a failure: deprovision every node, delete every disk and image of this run (best effort). */
  async function leaveNothing(): Promise<void> {
    for (const node of NODES) await call(t, 'delete', '/deprovision/', ALICE, { project: P, node, nic: NIC });
    const disks = await call(t, 'post', '/list_disks/', ALICE, { project: P });
    for (const [disk] of disks.status === 200 ? (JSON.parse(disks.text) as [string, string][]) : []) {
      await call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: disk });
    }
    for (const img of ['snap-a', UPLOADED, raw]) await call(t, 'delete', '/remove_image/', ADMIN, { project: P, img });
  }

  interface Booted {
    vm: BootVm;
    target: string;
    firmware: string;
    diskless: string;
    timing: BootTiming;
  }

  /** create_disk and provision through the API, then power the node on; resolves once it has powered off. */
  async function bootNode(
    pathName: string,
    node: string,
    disk: string,
    img: string,
    firmware: Firmware,
    concurrent = 1,
  ): Promise<Booted> {
    const t0 = Date.now();
    const target = await createDisk(t, ALICE, P, disk, img);
    const t1 = Date.now();
    await expectText(
      call(t, 'put', '/provision/', ALICE, { project: P, node, disk_name: disk, nic: NIC }),
      200,
      'Success',
    );
    const t2 = Date.now();
    const vm = new BootVm(env, node, macOf(node), firmware, accel);
    vms.push(vm);
    const booted = await vm.waitFor(BOOTED);
    const done = await vm.waitFor(DISKLESS);
    await vm.exited;
    const timing: BootTiming = {
      path: pathName,
      node,
      createDiskMs: t1 - t0,
      provisionMs: t2 - t1,
      qemuToMarkerMs: booted.at,
      apiToMarkerMs: booted.wall - t0,
      apiToDisklessMs: done.wall - t0,
      concurrent,
    };
    timings.push(timing);
    return { vm, target, firmware: BOOTED.exec(booted.text)![1], diskless: done.text, timing };
  }

  async function cephName(disk: string): Promise<string> {
    return (await imageRow(t, P, disk)).cephName;
  }

  function bootFiles(): string[] {
    const out: string[] = [];
    for (const sub of ['', 'pxelinux.cfg', 'mac']) {
      for (const f of readdirSync(path.join(env.tftpRoot, sub), { withFileTypes: true })) {
        if (f.isFile() && !/^(pxelinux\.0|.*\.c32|ipxe\.lkrn|snponly\.efi|undionly\.kpxe)$/.test(f.name)) {
          out.push(path.join(sub, f.name));
        }
      }
    }
    return out.sort();
  }

  const mac = (node: string) => macOf(node).replace(/:/g, '-');

  /** deprovision and delete_disk through the API, then: no target in tgtd, no clone in Ceph, no boot file. */
  async function tearDown(pairs: [node: string, disk: string][]): Promise<void> {
    const ceph = await Promise.all(pairs.map(([, disk]) => cephName(disk)));
    for (const [node, disk] of pairs) {
      await expectText(call(t, 'delete', '/deprovision/', ALICE, { project: P, node, nic: NIC }), 200, 'Success');
      await expectText(call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: disk }), 200, 'Success');
    }
    const targets = tgtTargets(env.tgtControlPort);
    const images = rbd(env.ceph, ['ls', env.ceph.pool]).split('\n');
    for (const [i, [node]] of pairs.entries()) {
      expect(targets).not.toContain(`${PREFIX}${ceph[i]}`);
      expect(images).not.toContain(ceph[i]);
      expect(existsSync(path.join(env.tftpRoot, `${node}.ipxe`))).toBe(false);
      expect(existsSync(path.join(env.tftpRoot, 'pxelinux.cfg', `01-${mac(node)}`))).toBe(false);
      expect(existsSync(path.join(env.tftpRoot, 'mac', `${mac(node)}.ipxe`))).toBe(false);
    }
  }

  describe('BIOS, the original chain over TFTP (pxelinux, ipxe.lkrn, <node>.ipxe)', () => {
    beforeAll(() => setIpxeScripts(env, 'tftp'));

    it('node A boots its disk and writes a note; a snapshot of it boots node B, which finds the note', async () => {
      const a = await bootNode('BIOS, pxelinux chain (TFTP)', 'node-a', 'disk-a', raw, 'bios');
      expect(a.firmware).toBe('bios');
      expect(a.target).toBe(`${PREFIX}${await cephName('disk-a')}`);
      expect(a.diskless).toBe(
        `BMI-DISKLESS-OK target=${a.target} boots=1 read=[] wrote=[written-by=${a.target} boot=1]`,
      );
      // what BMI wrote, and the lease dnsmasq gave the node (POST /node_ip/)
      expect(bootFiles()).toEqual(['mac/52-54-00-b0-00-01.ipxe', 'node-a.ipxe', 'pxelinux.cfg/01-52-54-00-b0-00-01']);
      // it logged in with the target's own initiator name and CHAP account (and so did its /init, from the iBFT)
      const script = readFileSync(path.join(env.tftpRoot, 'node-a.ipxe'), 'utf8');
      const user = /\n\s+set username (bmi-[0-9a-f]{16})\n\s+set password [A-Za-z0-9]{16}\n/.exec(script)?.[1];
      expect(script).toMatch(/\n\s+set initiator-iqn iqn\.2026-11\.org\.bmi\.node:[0-9a-f]{24}\n/);
      expect(user).toBeDefined();
      const show = tgtShow(env.tgtControlPort);
      const block = show.slice(show.indexOf(`: ${a.target}\n`)).split(/\nTarget \d+: /)[0];
      expect(block).toMatch(new RegExp(`Account information:\\n\\s+${user}\\n`));
      const ip = await expectOk(call(t, 'post', '/node_ip/', ALICE, { project: P, node: 'node-a', nic: NIC }));
      expect(JSON.parse(ip.text)).toMatch(/^10\.99\.0\.1\d\d$/);

      await expectText(
        call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'disk-a', snap_name: 'snap-a' }),
        200,
        'Success',
      );
      const b = await bootNode('BIOS, pxelinux chain (TFTP)', 'node-b', 'disk-b', 'snap-a', 'bios');
      expect(b.target).not.toBe(a.target);
      expect(b.diskless).toBe(
        `BMI-DISKLESS-OK target=${b.target} boots=2 read=[written-by=${a.target} boot=1] wrote=[written-by=${b.target} boot=2]`,
      );

      await tearDown([
        ['node-a', 'disk-a'],
        ['node-b', 'disk-b'],
      ]);
      expect(bootFiles()).toEqual([]);
      await expectText(call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 'snap-a' }), 200, 'Success');
    }, 300_000);
  });

  describe('UEFI over TFTP (OVMF PXE, snponly.efi, mac/<mac>.ipxe)', () => {
    beforeAll(() => setIpxeScripts(env, 'tftp'));

    it('node C boots its disk through systemd-boot', async () => {
      const c = await bootNode('UEFI, snponly.efi + per-MAC script (TFTP)', 'node-c', 'disk-c', raw, 'efi');
      expect(c.firmware).toBe('efi');
      expect(c.diskless).toBe(
        `BMI-DISKLESS-OK target=${c.target} boots=1 read=[] wrote=[written-by=${c.target} boot=1]`,
      );
      await tearDown([['node-c', 'disk-c']]);
      expect(bootFiles()).toEqual([]);
    }, 200_000);
  });

  describe('iPXE scripts over HTTP from BMI (GET /boot/ipxe?mac=…), BIOS and UEFI at once', () => {
    beforeAll(() => setIpxeScripts(env, 'http'));
    afterAll(() => setIpxeScripts(env, 'tftp'));

    it('nodes D (BIOS, iPXE ROM) and E (UEFI, snponly.efi) boot with the scripts BMI serves', async () => {
      const [d, e] = await Promise.all([
        bootNode('BIOS, iPXE ROM + script over HTTP', 'node-d', 'disk-d', raw, 'bios', 2),
        bootNode('UEFI, snponly.efi + script over HTTP', 'node-e', 'disk-e', raw, 'efi', 2),
      ]);
      expect([d.firmware, e.firmware]).toEqual(['bios', 'efi']);
      for (const n of [d, e]) expect(n.diskless).toMatch(/^BMI-DISKLESS-OK .* boots=1 read=\[\] /);
      // the script came from BMI over HTTP: iPXE fetched the URL, and no TFTP script was loaded
      for (const n of [d, e]) {
        expect(n.vm.lines.some((l) => l.text.includes(`http://${env.bridgeIp}:80/boot/ipxe`))).toBe(true);
        expect(n.vm.lines.some((l) => /pxelinux\.0|\.ipxe\.\.\./.test(l.text))).toBe(false);
      }
      await tearDown([
        ['node-d', 'disk-d'],
        ['node-e', 'disk-e'],
      ]);
      // deprovisioned: BMI no longer serves the script
      const gone = await t
        .http()
        .get('/boot/ipxe')
        .query({ mac: macOf('node-d') });
      expect(gone.status).toBe(404);
    }, 200_000);
  });

  describe('a qcow2 file uploaded, then 4 nodes booted from it with one `bmi boot` (2 BIOS, 2 UEFI, TFTP)', () => {
    beforeAll(() => setIpxeScripts(env, 'tftp'));

    it('`bmi image upload` converts a qcow2 made on the fly into a golden image (qemu-img, into Ceph)', async () => {
      const qcow2 = path.join(env.dir, 'golden.qcow2');
      execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', env.golden, qcow2]);
      const up = await bmi('image', 'upload', P, UPLOADED, qcow2, '--wait');
      expect({ code: up.code, err: up.err }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(up.out)).toMatchObject({ kind: 'upload_image', state: 'done' });
      // the same disk as the raw file, byte for byte, sealed with its protected snapshot
      const ceph = await cephName(UPLOADED);
      const exported = path.join(env.dir, 'uploaded.raw');
      rbd(env.ceph, ['export', '--no-progress', `${env.ceph.pool}/${ceph}`, exported]);
      expect(sha256(exported)).toBe(sha256(env.golden));
      expect(rbd(env.ceph, ['snap', 'ls', `${env.ceph.pool}/${ceph}`])).toContain(t.config.bmi.snapshot);
      rmSync(exported, { force: true });
    }, 180_000);

    it('all four boot their own new disk, and one `bmi release` takes them all back', async () => {
      const plan: [string, Firmware][] = [
        ['node-f', 'bios'],
        ['node-g', 'efi'],
        ['node-h', 'bios'],
        ['node-i', 'efi'],
      ];
      const firmware = new Map(plan);
      const started = new Map<string, BootVm>();
      // the nodes' BMCs: a cycle starts the node's QEMU machine (PXE first), off kills it
      const power = t.app.get(PowerDriver) as FakePowerDriver;
      const stop = power.listen((node, action) => {
        started.get(node)?.kill();
        if (action === 'off') return;
        const vm = new BootVm(env, node, macOf(node), firmware.get(node)!, accel);
        vms.push(vm);
        started.set(node, vm);
      });
      try {
        const t0 = Date.now();
        const boot = await bmi('boot', P, UPLOADED, ...plan.map(([n]) => n), '--wait', '--timeout', '240');
        // (on failure, the per-node progress on stderr says where each node got)
        expect({ code: boot.code, err: boot.err }).toEqual({ code: 0, err: expect.any(String) });
        for (const [n] of plan) expect(boot.err).toMatch(new RegExp(`^${n}: booted on ${PREFIX}\\S+$`, 'm'));
        const rows = JSON.parse(boot.out) as { node: string; disk: string; state: string }[];
        expect(rows.map((r) => [r.node, r.disk, r.state])).toEqual(plan.map(([n]) => [n, n, 'booted']));
        const booted = await Promise.all(
          plan.map(async ([node]) => {
            const vm = started.get(node)!;
            const marker = await vm.waitFor(BOOTED);
            const done = await vm.waitFor(DISKLESS);
            await vm.exited;
            const target = `${PREFIX}${await cephName(node)}`;
            timings.push({
              path: `one \`bmi boot\` of 4 (${firmware.get(node) === 'bios' ? 'BIOS' : 'UEFI'}, TFTP)`,
              node,
              qemuToMarkerMs: marker.at,
              apiToMarkerMs: marker.wall - t0,
              apiToDisklessMs: done.wall - t0,
              concurrent: plan.length,
            });
            return { target, firmware: BOOTED.exec(marker.text)![1], diskless: done.text };
          }),
        );
        expect(new Set(booted.map((b) => b.target)).size).toBe(4);
        for (const [i, b] of booted.entries()) {
          expect(b.firmware).toBe(plan[i][1]);
          expect(b.diskless).toBe(
            `BMI-DISKLESS-OK target=${b.target} boots=1 read=[] wrote=[written-by=${b.target} boot=1]`,
          );
        }

        const release = await bmi('release', P, ...plan.map(([n]) => n));
        expect({ code: release.code, err: release.err }).toEqual({ code: 0, err: expect.any(String) });
        const released = JSON.parse(release.out) as { node: string; state: string }[];
        expect(released.map((r) => [r.node, r.state])).toEqual(plan.map(([n]) => [n, 'released']));
        expect(bootFiles()).toEqual([]);
        const images = rbd(env.ceph, ['ls', env.ceph.pool]).split('\n');
        for (const b of booted) expect(images).not.toContain(b.target.slice(PREFIX.length));
        expect(tgtTargets(env.tgtControlPort).filter((n) => n.includes(uid))).toEqual([]);
      } finally {
        stop();
      }
    }, 420_000);
  });

  it('the golden images are still there, and removing them leaves nothing of this run in tgtd', async () => {
    await expectText(call(t, 'delete', '/remove_image/', ADMIN, { project: P, img: UPLOADED }), 200, 'Success');
    await expectText(call(t, 'delete', '/remove_image/', ADMIN, { project: P, img: raw }), 200, 'Success');
    expect(tgtTargets(env.tgtControlPort).filter((n) => n.includes(uid))).toEqual([]);
  });
});
