/**
 * Clone + remove latency, the hot path of create_disk / delete_disk, four ways in one run against the same
 * cluster and golden image:
 *   C floor      a minimal C program making the librbd calls (one connection, no JavaScript)
 *   binding      ceph-rbd-napi's IoCtx.clone + IoCtx.remove (one connection)
 *   BMI driver   CephRbdStorage.clone + removeImage (what BMI's services call)
 *   rbd CLI      `rbd clone` then `rbd rm`: two processes per pair, each connecting (the original BMI's way)
 * The ways take turns in rounds so that machine noise spreads over all of them. Prints a table with p50/p95
 * and the ratio of each to the C floor. Uses the cluster of CEPH_CONF/CEPH_KEYRING/CEPH_ID/CEPH_POOL when set,
 * else starts a throw-away one with scripts/ceph-local.sh and purges it afterwards.
 *   npm run bench:rbd [-- --rounds 5 --per-round 40 --cli-per-round 8]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as rbd from 'ceph-rbd-napi';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { startLocalCeph } from '../local-ceph';
import { arg, msSince as ms, percentile } from '../stats';

interface Cluster {
  conf: string;
  keyring: string;
  id: string;
  pool: string;
  stop: () => void;
}

function cluster(): Cluster {
  const { CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL } = process.env;
  if (CEPH_CONF && CEPH_KEYRING && CEPH_ID && CEPH_POOL) {
    return { conf: CEPH_CONF, keyring: CEPH_KEYRING, id: CEPH_ID, pool: CEPH_POOL, stop: () => undefined };
  }
  const local = startLocalCeph('ceph', 3396, 6796);
  return {
    conf: local.env.CEPH_CONF,
    keyring: local.env.CEPH_KEYRING,
    id: local.env.CEPH_ID,
    pool: local.env.CEPH_POOL,
    stop: local.purge,
  };
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 5);
  const perRound = arg('per-round', 40);
  const cliPerRound = arg('cli-per-round', 8);
  const c = cluster();
  const work = mkdtempSync(path.join(tmpdir(), 'bmi-bench-'));
  try {
    const exe = path.join(work, 'clone-remove');
    execFileSync('gcc', ['-O2', '-Wall', '-o', exe, path.join(__dirname, 'clone-remove.c'), '-lrbd', '-lrados']);

    const conn = await rbd.connect({ confFile: c.conf, clientId: c.id, keyring: c.keyring, timeoutSeconds: 30 });
    const io = await conn.openPool(c.pool);
    const driver = await CephRbdStorage.connect({
      confFile: c.conf,
      clientId: c.id,
      keyring: c.keyring,
      pool: c.pool,
      timeoutSeconds: 30,
    });
    const golden = `bench-golden-${process.pid}`;
    await io.create(golden, 1 << 30, { features: rbd.Features.LAYERING });
    await io.snapCreate(golden, 'base');
    await io.snapProtect(golden, 'base');

    const samples: Record<string, number[]> = { 'C floor': [], binding: [], 'BMI driver': [], 'rbd CLI': [] };
    const rbdArgs = ['--conf', c.conf, '--id', c.id, '--keyring', c.keyring];
    let k = 0;
    for (let r = 0; r < rounds; r++) {
      const out = execFileSync(exe, [
        c.conf,
        c.id,
        c.keyring,
        c.pool,
        golden,
        'base',
        `bench-c-${r}-`,
        String(perRound),
      ]);
      samples['C floor'].push(...out.toString().trim().split('\n').map(Number));
      for (let i = 0; i < perRound; i++) {
        const name = `bench-b-${k++}`;
        const t0 = process.hrtime.bigint();
        await io.clone(golden, 'base', name, { format: 1, features: rbd.Features.LAYERING });
        await io.remove(name);
        samples.binding.push(ms(t0));
      }
      for (let i = 0; i < perRound; i++) {
        const name = `bench-d-${k++}`;
        const t0 = process.hrtime.bigint();
        await driver.clone(golden, 'base', name);
        await driver.removeImage(name);
        samples['BMI driver'].push(ms(t0));
      }
      for (let i = 0; i < cliPerRound; i++) {
        const name = `bench-cli-${k++}`;
        const t0 = process.hrtime.bigint();
        for (const argv of [
          ['clone', ...rbdArgs, `${c.pool}/${golden}@base`, `${c.pool}/${name}`],
          ['rm', '--no-progress', ...rbdArgs, `${c.pool}/${name}`],
        ]) {
          const res = spawnSync('rbd', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
          if (res.status !== 0) throw new Error(`rbd ${argv[0]} failed: ${res.stderr.toString()}`);
        }
        samples['rbd CLI'].push(ms(t0));
      }
    }

    await io.snapUnprotect(golden, 'base');
    await io.snapRemove(golden, 'base');
    await io.remove(golden);
    await driver.close();
    await io.close();
    await conn.close();

    const floor = percentile(
      [...samples['C floor']].sort((a, b) => a - b),
      50,
    );
    const rows = Object.entries(samples).map(([way, xs]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { way, n: s.length, p50: percentile(s, 50), p95: percentile(s, 95) };
    });
    const pad = (v: string, w: number) => v.padStart(w);
    console.log(`\nclone + remove of a format-1 layering clone, ${rounds} rounds, librbd ${rbd.librbdVersion()}`);
    console.log(`| way        |   n | p50 ms | p95 ms | p50 / C floor |`);
    console.log(`|------------|----:|-------:|-------:|--------------:|`);
    for (const r of rows) {
      console.log(
        `| ${r.way.padEnd(10)} | ${pad(String(r.n), 3)} | ${pad(r.p50.toFixed(1), 6)} | ${pad(r.p95.toFixed(1), 6)} | ${pad(`${(r.p50 / floor).toFixed(2)}x`, 13)} |`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    c.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
