/**
 * What a hung Ceph does to the rest of BMI. A throw-away cluster, BMI serving on it (fake HIL and targets, its
 * SQLite database in a file), one golden image; then the cluster's daemons are stopped (SIGSTOP: a cluster that
 * hangs rather than refuses), 20 create_disk are sent, and while they hang the DB-only list_disks is timed.
 * Two settings side by side: the Ceph gate open as wide as the worker threads (max_calls = 16, down_seconds = 0:
 * every Ceph call may take a thread and each waits for its own timeout), and BMI's defaults (max_calls = 12,
 * down_seconds = 10). Prints a table: list_disks latency while Ceph hangs, and how the 20 create_disk ended.
 *   npm run bench:outage [-- --disks 20 --timeout 6]
 */
// Each librbd call holds a libuv pool thread: the same pool size as the server (main.ts), set before any I/O.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { LocalCeph, startLocalCeph } from '../local-ceph';
import { arg, msSince as ms } from '../stats';

/** SIGSTOP / SIGCONT every daemon of the cluster (from its pid files). */
function signalDaemons(c: LocalCeph, signal: 'SIGSTOP' | 'SIGCONT'): void {
  for (const name of ['mon.a', 'osd.0']) {
    const pid = Number(readFileSync(path.join(c.dir, 'run', `ceph-${name}.pid`), 'utf8'));
    process.kill(pid, signal);
  }
}

const auth = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

async function call(url: string, method: string, route: string, user: [string, string], body: object) {
  const r = await fetch(`${url}/${route}`, {
    method,
    headers: { authorization: auth(...user), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

interface Result {
  setting: string;
  listP50: number;
  listMax: number;
  disks: Record<string, number>;
  seconds: number;
}

async function run(c: LocalCeph, setting: string, fsExtra: string, disks: number, timeout: number): Promise<Result> {
  const work = mkdtempSync(path.join(tmpdir(), 'bmi-bench-app-'));
  const uid = `o${Math.random().toString(16).slice(2, 8)}`;
  const config = loadConfig({
    env: {},
    text:
      `[bmi]\nuid = ${uid}\n[db]\npath = ${work}/bmi.db\n[driver]\nfs = ceph\niscsi = fake\nnet_isolator = fake\n` +
      `[rest_api]\nip = 127.0.0.1\nport = 0\n[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = ${work}/p\nipxe_path = ${work}/i\n` +
      `[fs]\nid = ${c.env.CEPH_ID}\npool = ${c.env.CEPH_POOL}\nconf_file = ${c.env.CEPH_CONF}\nkeyring = ${c.env.CEPH_KEYRING}\n` +
      `timeout_seconds = ${timeout}\n${fsExtra}\n[logs]\ndebug = false\n`,
  });
  const raw = `raw-${uid}`;
  const ceph = await CephRbdStorage.connect({
    confFile: c.env.CEPH_CONF,
    clientId: c.env.CEPH_ID,
    keyring: c.env.CEPH_KEYRING,
    pool: c.env.CEPH_POOL,
    timeoutSeconds: 20,
  });
  await ceph.createImage(raw, 64 << 20);
  await ceph.close();
  const app: INestApplication = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const admin: [string, string] = ['admin', 'admin'];
  const alice: [string, string] = ['alice', 'alicepass'];
  await call(url, 'PUT', 'add_project', admin, { project: 'bmi_infra', name: 'proj1' });
  const imported = await call(url, 'PUT', 'import_image', admin, { project: 'proj1', img: raw });
  if (imported.status !== 200) throw new Error(`import failed: ${imported.status} ${imported.text}`);

  signalDaemons(c, 'SIGSTOP');
  const t0 = process.hrtime.bigint();
  const creates = Array.from({ length: disks }, (_, i) =>
    call(url, 'PUT', 'create_disk', alice, { project: 'proj1', disk_name: `d${i}`, img: raw }),
  );
  await new Promise((r) => setTimeout(r, 500)); // the creates are in flight
  const lists: number[] = [];
  for (let i = 0; i < 5; i++) {
    const l0 = process.hrtime.bigint();
    const r = await call(url, 'POST', 'list_disks', alice, { project: 'proj1' });
    if (r.status !== 200) throw new Error(`list_disks: ${r.status} ${r.text}`);
    lists.push(ms(l0));
  }
  const ends = await Promise.all(creates);
  const seconds = ms(t0) / 1000;
  signalDaemons(c, 'SIGCONT');
  await app.close();
  rmSync(work, { recursive: true, force: true });
  const outcome: Record<string, number> = {};
  for (const e of ends) outcome[String(e.status)] = (outcome[String(e.status)] ?? 0) + 1;
  lists.sort((a, b) => a - b);
  return { setting, listP50: lists[2], listMax: lists[4], disks: outcome, seconds };
}

async function main(): Promise<void> {
  const disks = arg('disks', 20);
  const timeout = arg('timeout', 6);
  const c = startLocalCeph('outage', 3397, 6797);
  try {
    const results = [
      await run(
        c,
        'gate as wide as the pool (max_calls 16, down_seconds 0)',
        'max_calls = 16\ndown_seconds = 0',
        disks,
        timeout,
      ),
      await run(c, 'defaults (max_calls 12, down_seconds 10)', '', disks, timeout),
    ];
    const base = results[0].listMax;
    console.log(
      `\n${disks} create_disk on a hung Ceph (timeout_seconds ${timeout}); list_disks timed 5 times meanwhile\n`,
    );
    console.log(
      '| setting | list_disks p50 ms | list_disks max ms | max vs first row | create_disk answers | all answered after s |',
    );
    console.log('|---|---:|---:|---:|---|---:|');
    for (const r of results) {
      const answers = Object.entries(r.disks)
        .map(([s, n]) => `${n} × ${s}`)
        .join(', ');
      console.log(
        `| ${r.setting} | ${r.listP50.toFixed(1)} | ${r.listMax.toFixed(1)} | ${(r.listMax / base).toFixed(3)} | ${answers} | ${r.seconds.toFixed(1)} |`,
      );
    }
  } finally {
    try {
      signalDaemons(c, 'SIGCONT');
    } catch {
      // already running or gone
    }
    c.purge();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
