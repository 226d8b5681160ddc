import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import * as path from 'node:path';
import { cephAppEnv, CephEnv, cephEnv } from '../utils/ceph-env';
import { hasProgram } from '../utils/tgt-env';

/**
 * The boot tests' environment, as `start_boot_env` (scripts/boot-lib.sh) exports it: a network namespace with a
 * bridge, dnsmasq, a tgtd with its portal on the bridge and a forwarder to the host's Ceph and to BMI
 * (scripts/boot-netns.sh), and the golden image to boot (scripts/build-golden.sh --rw).
 */
export interface BootEnv {
  dir: string;
  netns: string;
  bridgeIp: string;
  /** the host port BMI must listen on (127.0.0.1) for the nodes' HTTP requests to reach it */
  httpUpstream: number;
  tftpRoot: string;
  leases: string;
  tgtControlPort: number;
  /** IP:PORT of the namespace's tgtd, as the nodes reach it */
  tgtPortal: string;
  golden: string;
  ceph: CephEnv;
}

export const ROOT = path.resolve(__dirname, '../..');
const BOOT_NETNS_SH = path.join(ROOT, 'scripts/boot-netns.sh');
const PROGRAMS = ['qemu-system-x86_64', 'dnsmasq', 'tgtd', 'tgtadm', 'ip', 'rbd'];

/**
 * The settings of a BMI that provisions the nodes of `env`: Ceph and the namespace's tgtd (portal as the nodes
 * see it: the bridge address), iQN targets with `prefix` and ACLs, the namespace's TFTP root and leases, and
 * the scripts over HTTP too (the nodes' requests arrive through the namespace's forwarder, from 127.0.0.1, so
 * the per-address rate is raised), and CHAP on every target (the tests' default is off).
 */
export function bootAppEnv(env: BootEnv, uid: string, prefix: string): NodeJS.ProcessEnv {
  const [portalIp, portalPort] = env.tgtPortal.split(':');
  return {
    ...cephAppEnv(env.ceph, uid),
    BMI_ISCSI_IP: portalIp,
    BMI_ISCSI_PORT: portalPort,
    BMI_ISCSI_TGT_CONTROL_PORT: String(env.tgtControlPort),
    BMI_ISCSI_TARGET_PREFIX: prefix,
    BMI_ISCSI_CHAP: 'true',
    BMI_ISCSI_RECONCILE_SECONDS: '0',
    BMI_TFTP_IPXE_PATH: env.tftpRoot,
    BMI_TFTP_PXELINUX_PATH: path.join(env.tftpRoot, 'pxelinux.cfg'),
    BMI_TFTP_IPXE_MAC_PATH: path.join(env.tftpRoot, 'mac'),
    BMI_TFTP_IPXE_INTERFACE: 'net0',
    BMI_TFTP_LEASES_FILE: env.leases,
    BMI_TFTP_HTTP_BOOT: 'true',
    BMI_TFTP_HTTP_BOOT_ALLOW: '127.0.0.1',
    BMI_TFTP_HTTP_BOOT_RATE: '1000',
  };
}

/** Imports the golden image file into the pool as `name` (format 2, layering), as a site would. */
export function importGolden(env: BootEnv, name: string): void {
  rbd(env.ceph, [
    ...['import', '--no-progress', '--image-format', '2', '--image-feature', 'layering'],
    ...[env.golden, `${env.ceph.pool}/${name}`],
  ]);
}

export function bootEnv(): BootEnv | null {
  const e = process.env;
  const ceph = cephEnv();
  const need = [e.BOOT_DIR, e.BOOT_NETNS, e.BOOT_BRIDGE_IP, e.BOOT_HTTP_UPSTREAM, e.BOOT_TFTP_ROOT, e.BOOT_LEASES];
  if (!ceph || need.some((v) => !v) || !e.BOOT_TGT_CONTROL_PORT || !e.BOOT_TGT_PORTAL || !e.BOOT_GOLDEN) return null;
  if (!PROGRAMS.every(hasProgram)) return null;
  return {
    dir: e.BOOT_DIR!,
    netns: e.BOOT_NETNS!,
    bridgeIp: e.BOOT_BRIDGE_IP!,
    httpUpstream: Number(e.BOOT_HTTP_UPSTREAM),
    tftpRoot: e.BOOT_TFTP_ROOT!,
    leases: e.BOOT_LEASES!,
    tgtControlPort: Number(e.BOOT_TGT_CONTROL_PORT),
    tgtPortal: e.BOOT_TGT_PORTAL!,
    golden: e.BOOT_GOLDEN!,
    ceph,
  };
}

const HOW =
  `needs ${PROGRAMS.join(', ')}, CEPH_* from scripts/ceph-local.sh and BOOT_* from start_boot_env ` +
  '(scripts/boot-lib.sh); `npm run test:boot` and `npm test` set them up';

/**
 * A describe block that boots real QEMU nodes. Without the environment it fails in CI (CI is set), and
 * elsewhere it is skipped with one loud line, never silently.
 */
export function describeWithBoot(title: string, body: (env: BootEnv) => void): void {
  const env = bootEnv();
  if (env) {
    describe(title, () => body(env));
  } else if (process.env.CI) {
    describe(title, () => {
      it('has QEMU, dnsmasq, tgt and a provisioning network to boot nodes in', () => {
        throw new Error(`no boot environment: ${HOW}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${title}": no boot environment; ${HOW}`);
    describe.skip(title, () => it('needs a boot environment', () => undefined));
  }
}

function bootNetns(args: string[], timeoutMs = 60_000): string {
  return execFileSync(BOOT_NETNS_SH, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
}

export type Accel = 'kvm' | 'tcg';

/**
 * KVM only when a KVM guest really boots the golden image from local disk (`/dev/kvm` can exist and still fail
 * BIOS guests, as on a PVM host); otherwise TCG. BMI_BOOT_ACCEL=tcg|kvm skips the probe.
 */
export function probeAccel(golden: string): Accel {
  const forced = process.env.BMI_BOOT_ACCEL;
  if (forced === 'tcg' || forced === 'kvm') return forced;
  return bootNetns(['accel', golden], 40_000).trim() === 'kvm' ? 'kvm' : 'tcg';
}

/** How dnsmasq hands iPXE the node's script: the per-MAC file over TFTP, or BMI's URL (GET /boot/ipxe). */
export function setIpxeScripts(env: BootEnv, mode: 'tftp' | 'http'): void {
  bootNetns(['ipxe-script', mode, env.dir]);
}

export type Firmware = 'bios' | 'efi';

export interface SerialLine {
  text: string;
  /** ms since the VM was started */
  at: number;
  /** Date.now() when the line arrived */
  wall: number;
}

/**
 * One QEMU node in the namespace (`boot-netns.sh vm`), PXE-booting from the NIC with `mac`. Its serial console is
 * kept line by line (and in BOOT_DIR/vm/<name>.log, each line with its time since QEMU started); it has a hard time limit after which it is killed by its
 * PID, which is QEMU's (the script execs it).
 */
export class BootVm {
  readonly lines: SerialLine[] = [];
  readonly startedAt = Date.now();
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private partial = '';
  private waiters: { re: RegExp; resolve: (l: SerialLine) => void; reject: (e: Error) => void }[] = [];
  private ended = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    env: BootEnv,
    readonly name: string,
    readonly mac: string,
    readonly firmware: Firmware,
    accel: Accel,
    readonly timeoutMs = 120_000,
  ) {
    this.log = createWriteStream(path.join(env.dir, 'vm', `${name}.log`));
    this.child = spawn(BOOT_NETNS_SH, ['vm', env.dir, name, mac, firmware, accel], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => this.feed(d.toString('latin1')));
    this.child.stderr!.on('data', (d: Buffer) => this.feed(d.toString('latin1')));
    this.timer = setTimeout(() => {
      this.fail(new Error(`${name}: no result within ${timeoutMs / 1000} s; killed.\n${this.tail()}`));
      this.kill();
    }, timeoutMs);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        clearTimeout(this.timer);
        if (this.partial) this.push(this.partial);
        this.ended = true;
        this.log.end();
        this.fail(new Error(`${name}: QEMU exited (${code}) before the expected output.\n${this.tail()}`));
        resolve(code);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first serial line matching `re` (one seen already, or the next). */
  waitFor(re: RegExp): Promise<SerialLine> {
    const seen = this.lines.find((l) => re.test(l.text));
    if (seen) return Promise.resolve(seen);
    if (this.ended) return Promise.reject(new Error(`${this.name}: QEMU has exited.\n${this.tail()}`));
    return new Promise((resolve, reject) => this.waiters.push({ re, resolve, reject }));
  }

  /** SIGKILL by PID, if it still runs. */
  kill(): void {
    if (!this.ended && this.child.pid) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  tail(n = 25): string {
    return this.lines
      .slice(-n)
      .map((l) => `  ${(l.at / 1000).toFixed(1).padStart(6)} ${l.text}`)
      .join('\n');
  }

  private feed(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.push(p);
  }

  private push(raw: string): void {
    // serial output carries terminal escapes and carriage returns; keep the text
    // eslint-disable-next-line no-control-regex
    const text = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    const wall = Date.now();
    const line = { text, at: wall - this.startedAt, wall };
    this.lines.push(line);
    this.log.write(`${(line.at / 1000).toFixed(1).padStart(6)} ${text}\n`);
    const ready = this.waiters.filter((w) => w.re.test(text));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(line);
  }

  private fail(e: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(e);
  }
}

/** The target names tgtd has, read with tgtadm directly. */
export function tgtTargets(controlPort: number): string[] {
  const out = execFileSync(
    'tgtadm',
    ['-C', String(controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'show'],
    {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  return [...out.matchAll(/^Target \d+: (\S+)$/gm)].map((m) => m[1]);
}

/** The portals (IP:PORT) tgtd listens on, read with tgtadm directly. */
export function tgtPortals(controlPort: number): string[] {
  const out = execFileSync(
    'tgtadm',
    ['-C', String(controlPort), '--lld', 'iscsi', '--mode', 'portal', '--op', 'show'],
    {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  return [...out.matchAll(/^Portal: (\S+?),\d+$/gm)].map((m) => m[1]);
}

/** `rbd` as the BMI client of the test cluster. */
export function rbd(ceph: CephEnv, args: string[]): string {
  return execFileSync('rbd', ['--conf', ceph.confFile, '--id', ceph.clientId, '--keyring', ceph.keyring, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface BootTiming {
  path: string;
  node: string;
  /** PUT /create_disk, PUT /provision/ (ms); none when one `bmi boot` did both */
  createDiskMs?: number;
  provisionMs?: number;
  /** QEMU start -> BMI-BOOT-OK (ms) */
  qemuToMarkerMs: number;
  /** the create_disk call (or `bmi boot`) -> BMI-BOOT-OK (ms): what a tenant waits for */
  apiToMarkerMs: number;
  /** the create_disk call -> BMI-DISKLESS-OK: logged in to its disk again from Linux, wrote its note (ms) */
  apiToDisklessMs: number;
  concurrent: number;
}

export function timingTable(rows: BootTiming[], accel: Accel): string {
  const s = (ms: number | undefined) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));
  const head =
    `| path (${accel.toUpperCase()}) | node | at once | create_disk s | provision s | QEMU start → marker s | ` +
    'API call → marker s | API call → diskless rw s |';
  return [
    head,
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.path} | ${r.node} | ${r.concurrent} | ${s(r.createDiskMs)} | ${s(r.provisionMs)} | ${s(r.qemuToMarkerMs)} | ` +
        `${s(r.apiToMarkerMs)} | ${s(r.apiToDisklessMs)} |`,
    ),
  ].join('\n');
}
