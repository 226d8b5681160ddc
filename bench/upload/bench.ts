/**
 * Getting a disk image file into the pool, BMI's way against the tools a site would otherwise use by hand, in
 * one run against the same throw-away cluster and the same files:
 *   rbd import         `rbd import` of the raw file (the original's way in: an admin with a shell on a Ceph
 *                      client, then `bmi import`)
 *   BMI upload raw     `bmi image upload` of the raw file to a BMI on this cluster: SHA-256, parts over HTTP,
 *                      written through the binding, the protected snapshot
 *   qemu-img convert   `qemu-img convert` of the qcow2 file straight into an RBD image (the floor for qcow2)
 *   BMI upload qcow2   `bmi image upload` of the qcow2 file: staged, checked, converted, snapshot
 * The ways take turns in rounds. Prints MiB/s (of the raw size) p50 per way and the ratio to its floor.
 * Uses the cluster of CEPH_CONF/CEPH_KEYRING/CEPH_ID/CEPH_POOL when set, else starts a throw-away one.
 * The CLI runs as its own process (`npm run build` first), BMI in this one.
 *   npm run bench:upload [-- --mib 256 --rounds 3]
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { startLocalCeph } from '../local-ceph';
import { arg, msSince, summary, table } from '../stats';

/** A raw file of `mib` MiB, half random data and half zeros (as a real disk image is part empty). */
function rawFile(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  const chunk = randomBytes(1024 * 1024);
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib; i++) writeSync(fd, i % 2 ? zeros : chunk);
  closeSync(fd);
}

const BMI = path.resolve(__dirname, '../../bin/bmi.js');

async function main(): Promise<void> {
  const mib = arg('mib', 256);
  const rounds = arg('rounds', 3);
  const { CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL } = process.env;
  const local = CEPH_CONF ? null : startLocalCeph('upload', 3397, 6797);
  const c = local?.env ?? {
    CEPH_CONF: CEPH_CONF!,
    CEPH_KEYRING: CEPH_KEYRING!,
    CEPH_ID: CEPH_ID!,
    CEPH_POOL: CEPH_POOL!,
  };
  const work = mkdtempSync(path.join(tmpdir(), 'bmi-bench-upload-'));
  const rbdArgs = ['--conf', c.CEPH_CONF, '--id', c.CEPH_ID, '--keyring', c.CEPH_KEYRING];
  const uid = `bu${process.pid}`;
  try {
    const raw = path.join(work, 'disk.raw');
    const qcow2 = path.join(work, 'disk.qcow2');
    rawFile(raw, mib);
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);

    const config = loadConfig({
      text:
        `[bmi]\nuid = ${uid}\n[db]\npath = ${work}/bmi.db\n[driver]\nfs = ceph\niscsi = fake\nnet_isolator = fake\n` +
        `[fs]\npool = ${c.CEPH_POOL}\nid = ${c.CEPH_ID}\nconf_file = ${c.CEPH_CONF}\nkeyring = ${c.CEPH_KEYRING}\n` +
        `[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = ${work}/p\nipxe_path = ${work}/i\n` +
        `[upload]\nstaging_dir = ${work}/staging\n`,
    });
    const app = await createApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    // the CLI as its own process (the built one), as a tenant's machine would run it: not sharing BMI's thread
    const bmi = (...args: string[]) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [BMI, '-f', 'json', ...args], {
          env: { ...process.env, BMI_URL: url, BMI_USERNAME: 'admin', BMI_PASSWORD: 'admin', HOME: work },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bmi ${args.join(' ')}: ${err}`))));
      });
    await bmi('project', 'create', 'bench');

    const samples: Record<string, number[]> = {
      'rbd import': [],
      'BMI upload raw': [],
      'qemu-img convert': [],
      'BMI upload qcow2': [],
    };
    const imageOf = (name: string) => `${c.CEPH_POOL}/${name}`;
    for (let r = 0; r < rounds; r++) {
      let t0 = process.hrtime.bigint();
      execFileSync('rbd', ['import', '--no-progress', ...rbdArgs, raw, imageOf(`${uid}-imp-${r}`)]);
      samples['rbd import'].push(msSince(t0));
      execFileSync('rbd', ['rm', '--no-progress', ...rbdArgs, imageOf(`${uid}-imp-${r}`)]);

      t0 = process.hrtime.bigint();
      await bmi('image', 'upload', 'bench', `raw${r}`, raw, '--wait');
      samples['BMI upload raw'].push(msSince(t0));

      t0 = process.hrtime.bigint();
      const target = [`rbd:${imageOf(`${uid}-qi-${r}`)}`, `id=${c.CEPH_ID}`, `conf=${c.CEPH_CONF}`];
      execFileSync('qemu-img', [
        'convert',
        '-q',
        '-f',
        'qcow2',
        '-O',
        'raw',
        qcow2,
        [...target, `keyring=${c.CEPH_KEYRING}`].join(':'),
      ]);
      samples['qemu-img convert'].push(msSince(t0));
      execFileSync('rbd', ['rm', '--no-progress', ...rbdArgs, imageOf(`${uid}-qi-${r}`)]);

      t0 = process.hrtime.bigint();
      await bmi('image', 'upload', 'bench', `qcow${r}`, qcow2, '--wait');
      samples['BMI upload qcow2'].push(msSince(t0));
    }
    for (let r = 0; r < rounds; r++) {
      await bmi('rm', 'bench', `raw${r}`);
      await bmi('rm', 'bench', `qcow${r}`);
    }
    await bmi('project', 'rm', 'bench');
    await app.close();

    const floors: Record<string, string> = {
      'rbd import': 'rbd import',
      'BMI upload raw': 'rbd import',
      'qemu-img convert': 'qemu-img convert',
      'BMI upload qcow2': 'qemu-img convert',
    };
    const p50 = (way: string) => summary(samples[way]).p50;
    const rows = Object.keys(samples).map((way) => {
      const s = summary(samples[way]);
      return [
        way,
        String(s.n),
        (s.p50 / 1000).toFixed(2),
        (mib / (s.p50 / 1000)).toFixed(0),
        `${(s.p50 / p50(floors[way])).toFixed(2)}x`,
      ];
    });
    console.log(`\na ${mib} MiB disk image (half data, half zeros) into the pool, ${rounds} rounds, p50`);
    console.log(table(['way', 'n', 's', 'MiB/s', 'time / floor'], rows));
  } finally {
    rmSync(work, { recursive: true, force: true });
    local?.purge();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
