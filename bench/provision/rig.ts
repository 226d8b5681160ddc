/**
 * What the provisioning benchmark runs against, all throw-away: a memstore Ceph (scripts/ceph-local.sh, or the
 * cluster of CEPH_* when set), a tgtd (scripts/tgt-local.sh) on its own control port and portal, the
 * HIL-compatible server (tools/hil-server) as its own process with one node per client, and BMI itself
 * (`node dist/main.js`) on a config of its own. Everything is stopped by PID and removed at the end.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../test/utils/server-process';
import { startLocalCeph } from '../local-ceph';

const ROOT = path.resolve(__dirname, '../..');

export interface Ceph {
  conf: string;
  keyring: string;
  id: string;
  pool: string;
}

export interface Rig {
  dir: string;
  ceph: Ceph;
  tgt: { controlPort: number; portal: string };
  hilUrl: string;
  /** BMI's base URL (once started) */
  url: string;
  /** the uid BMI names its images with */
  uid: string;
  /** nodes node-000… of proj1, with NIC eth0 */
  nodes: string[];
  /** BMI's DB file */
  db: string;
  startBmi(): Promise<void>;
  stopBmi(): Promise<void>;
  bmiPid(): number;
  close(): Promise<void>;
}

export const ALICE: [string, string] = ['alice', 'alicepass'];
export const ADMIN: [string, string] = ['admin', 'admin'];

/** A child process whose output is kept, and a wait for a line it prints. */
function child(argv: string[], env: NodeJS.ProcessEnv): { proc: ChildProcess; ready: (text: string) => Promise<void> } {
  const proc = spawn(argv[0], argv.slice(1), { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const ready = async (text: string) => {
    const deadline = Date.now() + 60000;
    while (!out.includes(text)) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${argv.join(' ')} did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { proc, ready };
}

async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

export async function startRig(clients: number): Promise<Rig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bmi-bench-provision-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        console.error(`clean-up: ${(e as Error).message}`);
      }
    }
  };
  try {
    const { CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL } = process.env;
    let ceph: Ceph;
    if (CEPH_CONF && CEPH_KEYRING && CEPH_ID && CEPH_POOL) {
      ceph = { conf: CEPH_CONF, keyring: CEPH_KEYRING, id: CEPH_ID, pool: CEPH_POOL };
    } else {
      const local = startLocalCeph('provision', 3397, 6797);
      cleanups.push(local.purge);
      ceph = {
        conf: local.env.CEPH_CONF,
        keyring: local.env.CEPH_KEYRING,
        id: local.env.CEPH_ID,
        pool: local.env.CEPH_POOL,
      };
    }

    const tgtDir = path.join(dir, 'tgt');
    const tgtScript = path.join(ROOT, 'scripts/tgt-local.sh');
    const portal = `127.0.0.1:${await freePort()}`;
    const tgtOut = execFileSync('bash', [tgtScript, 'up', tgtDir], {
      env: { ...process.env, TGT_PORTAL: portal },
      stdio: ['ignore', 'pipe', 'inherit'],
    }).toString();
    cleanups.push(() => void execFileSync('bash', [tgtScript, 'down', tgtDir], { stdio: 'inherit' }));
    const controlPort = Number(/TGT_CONTROL_PORT=(\d+)/.exec(tgtOut)![1]);

    const nodes = Array.from({ length: Math.max(clients, 1) }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    const seed = {
      users: {
        admin: { password: 'admin', is_admin: true, projects: [] },
        alice: { password: 'alicepass', is_admin: false, projects: ['proj1'] },
      },
      projects: ['proj1'],
      nodes: Object.fromEntries(
        nodes.map((n, i) => [
          n,
          {
            project: 'proj1',
            nics: [
              {
                label: 'eth0',
                macaddr: `52:54:00:be:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
              },
            ],
          },
        ]),
      ),
    };
    writeFileSync(path.join(dir, 'hil-seed.json'), JSON.stringify(seed));
    const hilPort = await freePort();
    const hil = child(
      [
        process.execPath,
        '-r',
        'ts-node/register/transpile-only',
        'tools/hil-server/main.ts',
        '--seed',
        path.join(dir, 'hil-seed.json'),
        '--port',
        String(hilPort),
        '--quiet',
      ],
      { PATH: process.env.PATH },
    );
    cleanups.push(() => stop(hil.proc));
    await hil.ready(String(hilPort));

    const uid = `b${process.pid}`;
    const bmiPort = await freePort();
    const tftp = path.join(dir, 'tftpboot');
    mkdirSync(path.join(tftp, 'pxelinux.cfg'), { recursive: true });
    const db = path.join(dir, 'bmi.db');
    writeFileSync(
      path.join(dir, 'bmi.cfg'),
      [
        '[bmi]',
        `uid = ${uid}`,
        'snapshot = bmi_snapshot',
        '[db]',
        `path = ${db}`,
        '[driver]',
        'fs = ceph',
        'iscsi = tgt',
        'net_isolator = hil',
        '[net_isolator]',
        `url = http://127.0.0.1:${hilPort}`,
        '[fs]',
        `conf_file = ${ceph.conf}`,
        `keyring = ${ceph.keyring}`,
        `id = ${ceph.id}`,
        `pool = ${ceph.pool}`,
        '[iscsi]',
        `ip = ${portal.split(':')[0]}`,
        `port = ${portal.split(':')[1]}`,
        `tgt_control_port = ${controlPort}`,
        '[tftp]',
        `pxelinux_path = ${tftp}/pxelinux.cfg/`,
        `ipxe_path = ${tftp}/`,
        `leases_file = ${dir}/dnsmasq.leases`,
        '[rest_api]',
        'ip = 127.0.0.1',
        `port = ${bmiPort}`,
      ].join('\n'),
    );
    let bmi: ChildProcess | undefined;
    cleanups.push(() => stop(bmi));
    return {
      dir,
      ceph,
      tgt: { controlPort, portal },
      hilUrl: `http://127.0.0.1:${hilPort}`,
      url: `http://127.0.0.1:${bmiPort}`,
      uid,
      nodes,
      db,
      async startBmi() {
        // BENCH_BMI_NODE_ARGS: extra node options for BMI's process, e.g. --cpu-prof to see where its time goes
        const extra = (process.env.BENCH_BMI_NODE_ARGS ?? '').split(' ').filter(Boolean);
        // as `npm start` runs it
        const c = child([process.execPath, '--max-semi-space-size=4', ...extra, path.join(ROOT, 'dist/main.js')], {
          PATH: process.env.PATH,
          BMI_CONFIG: path.join(dir, 'bmi.cfg'),
        });
        bmi = c.proc;
        await c.ready('serving on');
      },
      stopBmi: () => stop(bmi),
      bmiPid: () => bmi!.pid!,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return Number(kb) / 1024;
}
