/**
 * What password guessing does to BMI, and what the login throttle changes. BMI in standalone mode (passwords in
 * its own database, scrypt at the configured cost), in-memory drivers; a guesser sends `--guesses` wrong
 * passwords for an unknown user at concurrency `--concurrency` from 127.0.0.1 while a legitimate user (another
 * address: 127.0.0.2) lists projects one request after the other. Two settings side by side: no throttle (limits
 * out of reach, as before) and BMI's defaults. Prints a table: how many guesses got their password checked, the
 * guess rate, and the legitimate user's p50 and p95 during the flood, against its p50 alone.
 *   npm run bench:logins [-- --guesses 200 --concurrency 32 --cost 17]
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { arg, msSince, summary, table } from '../stats';

const auth = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

/** One GET from a given local address (so that the guesser and the user are two clients). */
function get(port: number, route: string, authorization: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: route, localAddress, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Result {
  setting: string;
  checked: number;
  refused429: number;
  guessesPerS: number;
  aloneP50: number;
  floodP50: number;
  floodP95: number;
}

async function run(setting: string, throttle: boolean, guesses: number, concurrency: number, cost: number) {
  const work = mkdtempSync(path.join(tmpdir(), 'bmi-bench-logins-'));
  const limits = throttle
    ? ''
    : 'max_failures_per_user_and_address = 100000\nmax_failures_per_address = 100000\nmax_failures_per_user = 100000\n';
  const config = loadConfig({
    env: { BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'admin-pw-123' },
    text:
      `[bmi]\nuid = 5\n[db]\npath = ${work}/bmi.db\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = standalone\n` +
      `[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = ${work}/p\nipxe_path = ${work}/i\n` +
      `[auth]\nscrypt_cost = ${cost}\n${limits}`,
  });
  const app = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const admin = auth('admin', 'admin-pw-123');
  try {
    const alone: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint();
      if ((await get(port, '/v1/projects', admin, '127.0.0.2')) !== 200) throw new Error('the admin cannot list');
      alone.push(msSince(t0));
    }
    let sent = 0;
    const statuses: number[] = [];
    const t0 = process.hrtime.bigint();
    const guesser = async () => {
      while (sent < guesses) {
        const n = sent++;
        statuses.push(await get(port, '/v1/projects', auth('mallory', `guess-${n}`), '127.0.0.1'));
      }
    };
    const flood = Promise.all(Array.from({ length: concurrency }, guesser));
    const during: number[] = [];
    let flooding = true;
    let userRefused = 0;
    void flood.then(() => (flooding = false));
    while (flooding) {
      const t1 = process.hrtime.bigint();
      if ((await get(port, '/v1/projects', admin, '127.0.0.2')) !== 200) userRefused++;
      during.push(msSince(t1));
    }
    if (userRefused) throw new Error(`the legitimate user was refused ${userRefused} time(s)`);
    await flood;
    const seconds = msSince(t0) / 1000;
    const checked = statuses.filter((s) => s === 401).length;
    return {
      setting,
      checked,
      refused429: statuses.filter((s) => s === 429).length,
      guessesPerS: checked / seconds,
      aloneP50: summary(alone).p50,
      floodP50: summary(during).p50,
      floodP95: summary(during).p95,
    } satisfies Result;
  } finally {
    await app.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const guesses = arg('guesses', 200);
  const concurrency = arg('concurrency', 32);
  const cost = arg('cost', 17);
  const before = await run('no throttle', false, guesses, concurrency, cost);
  const after = await run('BMI defaults', true, guesses, concurrency, cost);
  const f = (v: number) => v.toFixed(1);
  console.log(
    `\n${guesses} wrong passwords at concurrency ${concurrency} (scrypt N = 2^${cost}); a legitimate user meanwhile\n`,
  );
  console.log(
    table(
      [
        'setting',
        'passwords checked',
        '429',
        'checked/s',
        'user p50 alone (ms)',
        'user p50 in flood',
        'p95',
        'p50 vs alone',
      ],
      [before, after].map((r) => [
        r.setting,
        String(r.checked),
        String(r.refused429),
        f(r.guessesPerS),
        f(r.aloneP50),
        f(r.floodP50),
        f(r.floodP95),
        `${(r.floodP50 / r.aloneP50).toFixed(1)}x`,
      ]),
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
