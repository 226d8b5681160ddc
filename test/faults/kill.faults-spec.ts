/**
 * Fault tests of a real BMI process on a real Ceph and a real tgtd (`npm run test:faults`, part of npm test).
 *
 * The matrix: for every multi-step operation and every step, BMI SIGKILLs itself right after that step ran
 * (before the journal heard of it; a reserved row has one point, after its transaction), armed through
 * BMI_TEST_KILL_FILE. BMI is started again (recovery runs at start), the reconciler must find no drift between
 * the DB, the pool, the targets and the boot files, and the operation must be rolled back (then the retried
 * request succeeds) or forward.
 *
 * The loop: requests of every kind killed from outside after a random delay, the same checks after each
 * restart, and the retried request succeeds.
 */
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { TgtIscsiTargetDriver } from '../../src/modules/iscsi/drivers/tgt-iscsi-target.driver';
import { freePort, ServerProcess, startServer, waitFor } from '../utils/server-process';
import { purgeRun } from '../utils/purge';
import { ok, realBmiConfig, Reply, sendForm, User } from '../utils/real-bmi';
import { describeWithTgt, TgtEnv, tgtDriverFor } from '../utils/tgt-env';

const SEED = path.resolve(__dirname, '../../config/hil-seed.json');
const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };
const P = 'proj1';

describeWithTgt('BMI killed at every step, on Ceph and tgtd', (env: TgtEnv) => {
  const uid = `f${randomBytes(3).toString('hex')}`;
  let dir: string;
  let port: number;
  let server: ServerProcess | undefined;
  let ceph: CephRbdStorage;
  const killFile = () => path.join(dir, 'kill-at');
  let fences = 0;
  const url = () => `http://127.0.0.1:${port}`;

  function config(): string {
    return realBmiConfig(env, {
      uid,
      dir,
      port,
      seed: SEED,
      db: [`path = ${dir}/bmi.db`],
      iscsi: ['reconcile_seconds = 0'],
    });
  }

  async function start(): Promise<void> {
    server = startServer({ BMI_CONFIG: path.join(dir, 'bmi.cfg'), BMI_TEST_KILL_FILE: killFile() });
    await waitFor(server, 'serving on', 60000);
    // recovery at start fenced the Ceph session of the process that was killed
    fences += server.output().split('fenced the Ceph session').length - 1;
  }

  async function stop(): Promise<void> {
    if (!server) return;
    if (server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGTERM');
    await server.exited;
    server = undefined;
  }

  const send = (method: string, route: string, user: User, fields: Record<string, string>) =>
    sendForm(url(), method, route, user, { project: P, ...fields });

  /** The reconciler's drift (none expected), and the newest operation. */
  async function check(): Promise<{ drift: unknown[]; op: { kind: string; state: string; id: string } }> {
    const report = JSON.parse((await ok(send('POST', 'reconcile/', ADMIN, {}))).text) as { drift: unknown[] };
    const [op] = JSON.parse((await ok(send('POST', 'list_operations/', ADMIN, { limit: '1' }))).text) as {
      kind: string;
      state: string;
      id: string;
    }[];
    return { drift: report.drift, op };
  }

  /** Sends the request, which kills BMI; then starts BMI again, which recovers. */
  async function killedDuring(request: () => Promise<Reply>): Promise<void> {
    const proc = server!;
    await request().then(
      (r) => {
        throw new Error(`BMI answered ${r.status} (${r.text}) instead of dying`);
      },
      () => undefined, // the connection died with it
    );
    await proc.exited;
    expect(proc.proc.signalCode).toBe('SIGKILL');
    server = undefined;
    unlinkSync(killFile());
    await start();
  }

  const raw = (name: string) => `${uid}${name}`;

  /** The test's own view of the tgtd BMI drives (its debug lines kept quiet). */
  function tgtDriver(): TgtIscsiTargetDriver {
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    return tgtDriverFor(env);
  }

  interface Case {
    kind: string;
    /** the step numbers and points to kill at */
    points: string[];
    request: () => Promise<Reply>;
    /** brings things back to how they were before the request, once it succeeded */
    undo: () => Promise<unknown>;
  }

  const after = (n: number) => ['1:done', ...Array.from({ length: n - 1 }, (_, i) => `${i + 2}:ran`)];
  const ran = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}:ran`);

  const CASES: Case[] = [
    {
      kind: 'create_disk',
      points: after(4),
      request: () => send('PUT', 'create_disk', ALICE, { disk_name: 'd2', img: raw('gold') }),
      undo: () => ok(send('DELETE', 'delete_disk', ALICE, { disk_name: 'd2' })),
    },
    {
      kind: 'delete_disk',
      points: ran(3),
      request: () => send('DELETE', 'delete_disk', ALICE, { disk_name: 'spare' }),
      undo: () => ok(send('PUT', 'create_disk', ALICE, { disk_name: 'spare', img: raw('gold') })),
    },
    {
      kind: 'create_snapshot',
      points: after(6),
      request: () => send('PUT', 'create_snapshot/', ALICE, { disk_name: 'd1', snap_name: 's2' }),
      undo: () => ok(send('DELETE', 'remove_image/', ALICE, { img: 's2' })),
    },
    {
      kind: 'remove_image',
      points: ran(3),
      request: () => send('DELETE', 'remove_image/', ALICE, { img: 's3' }),
      undo: () => ok(send('PUT', 'create_snapshot/', ALICE, { disk_name: 'd1', snap_name: 's3' })),
    },
    {
      kind: 'import_image',
      points: after(6),
      request: () => send('PUT', 'import_image/', ADMIN, { img: raw('raw2') }),
      undo: () => ok(send('DELETE', 'remove_image/', ADMIN, { img: raw('raw2') })),
    },
    {
      kind: 'import_snapshot',
      points: after(6),
      request: () => send('PUT', 'import_image/', ADMIN, { img: raw('raw3'), snap: 'gold', protect: 'true' }),
      undo: () => ok(send('DELETE', 'remove_image/', ADMIN, { img: raw('raw3') })),
    },
    {
      kind: 'copy_image',
      points: after(4),
      request: () => send('PUT', 'copy_image/', ALICE, { img: 's1', dest_project: P, new_name: 's1c' }),
      undo: () => ok(send('DELETE', 'remove_image/', ALICE, { img: 's1c' })),
    },
    {
      kind: 'export_image',
      points: ran(2),
      request: () => send('PUT', 'export_image/', ADMIN, { img: 's1', name: raw('out') }),
      undo: () => ceph.removeImage(raw('out')),
    },
    {
      kind: 'mount_image',
      points: ran(2),
      request: () => send('PUT', 'mount_image/', ADMIN, { img: 's1' }),
      undo: () => ok(send('DELETE', 'umount_image/', ADMIN, { img: 's1' })),
    },
    {
      kind: 'umount_image',
      points: ran(2),
      request: () => send('DELETE', 'umount_image/', ADMIN, { img: 'm1' }),
      undo: () => ok(send('PUT', 'mount_image/', ADMIN, { img: 'm1' })),
    },
    {
      kind: 'provision',
      points: ran(2),
      request: () => send('PUT', 'provision/', ALICE, { node: 'node-01', disk_name: 'spare', nic: 'eth0' }),
      undo: () => ok(send('PUT', 'provision/', ALICE, { node: 'node-01', disk_name: 'd1', nic: 'eth0' })),
    },
    {
      kind: 'deprovision',
      points: ran(2),
      request: () => send('DELETE', 'deprovision/', ALICE, { node: 'node-01', nic: 'eth0' }),
      undo: () => ok(send('PUT', 'provision/', ALICE, { node: 'node-01', disk_name: 'd1', nic: 'eth0' })),
    },
  ];

  const matrix: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-faults-'));
    port = await freePort();
    writeFileSync(path.join(dir, 'bmi.cfg'), config());
    ceph = await CephRbdStorage.connect({ ...env.ceph, timeoutSeconds: 20 });
    for (const name of ['gold', 'raw2', 'raw3', 'raw4', 'rawm']) await ceph.createImage(raw(name), 16 << 20);
    await ceph.createSnapshot(raw('raw3'), 'gold');
    await start();
    await ok(send('PUT', 'add_project/', ADMIN, { project: 'bmi_infra', name: P }));
    await ok(send('PUT', 'import_image/', ADMIN, { img: raw('gold') }));
    await ok(send('PUT', 'create_disk', ALICE, { disk_name: 'd1', img: raw('gold') }));
    await ok(send('PUT', 'create_disk', ALICE, { disk_name: 'spare', img: raw('gold') }));
    await ok(send('PUT', 'create_snapshot/', ALICE, { disk_name: 'd1', snap_name: 's1' }));
    await ok(send('PUT', 'create_snapshot/', ALICE, { disk_name: 'd1', snap_name: 's3' }));
    await ok(send('PUT', 'import_image/', ADMIN, { img: raw('rawm') }));
    await ok(send('PUT', 'move_image/', ADMIN, { img: raw('rawm'), dest_project: P, new_name: 'm1' }));
    await ok(send('PUT', 'mount_image/', ADMIN, { img: 'm1' }));
    await ok(send('PUT', 'provision/', ALICE, { node: 'node-01', disk_name: 'd1', nic: 'eth0' }));
    expect((await check()).drift).toEqual([]);
  }, 120000);

  afterAll(async () => {
    process.stdout.write(
      `\nfault matrix on Ceph and tgtd (step:point → outcome):\n${matrix.join('\n')}\n` +
        `${fences} Ceph sessions of killed processes fenced at the restarts\n`,
    );
    await stop();
    await purgeRun(uid, tgtDriver(), ceph);
    await ceph?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 120000);

  it.each(CASES.map((c) => [c.kind, c] as const))(
    '%s: converges after a kill at each step, and the retry succeeds',
    async (kind, c) => {
      const outcomes: string[] = [];
      for (const point of c.points) {
        writeFileSync(killFile(), `${kind}:${point}`);
        await killedDuring(c.request);
        const { drift, op } = await check();
        expect({ point, drift }).toEqual({ point, drift: [] });
        expect(op.kind).toBe(kind);
        if (op.state === 'rolled_back') {
          await ok(c.request());
          outcomes.push(`${point}→back`);
        } else {
          expect({ point, state: op.state }).toEqual({ point, state: 'rolled_forward' });
          outcomes.push(`${point}→forward`);
        }
        expect((await check()).drift).toEqual([]);
        await c.undo();
      }
      matrix.push(`${kind.padEnd(16)} ${outcomes.join('  ')}`);
    },
    600000,
  );

  /** A thing made by one request and unmade by another, and whether it is there now. */
  interface Pair {
    name: string;
    /** the operations its two requests run */
    kinds: [string, string];
    make: () => Promise<Reply>;
    unmake: () => Promise<Reply>;
    present: () => Promise<boolean>;
  }

  const listed = async (route: string, name: string) =>
    (JSON.parse((await ok(send('POST', route, ALICE, {}))).text) as unknown[]).some((x) =>
      Array.isArray(x) ? x[0] === name : x === name,
    );

  const PAIRS: Pair[] = [
    {
      name: 'disk',
      kinds: ['create_disk', 'delete_disk'],
      make: () => send('PUT', 'create_disk', ALICE, { disk_name: 'r1', img: raw('gold') }),
      unmake: () => send('DELETE', 'delete_disk', ALICE, { disk_name: 'r1' }),
      present: () => listed('list_disks/', 'r1'),
    },
    {
      name: 'snapshot',
      kinds: ['create_snapshot', 'remove_image'],
      make: () => send('PUT', 'create_snapshot/', ALICE, { disk_name: 'd1', snap_name: 'rs' }),
      unmake: () => send('DELETE', 'remove_image/', ALICE, { img: 'rs' }),
      present: () => listed('list_snapshots/', 'rs'),
    },
    {
      name: 'import',
      kinds: ['import_image', 'remove_image'],
      make: () => send('PUT', 'import_image/', ADMIN, { img: raw('raw4') }),
      unmake: () => send('DELETE', 'remove_image/', ADMIN, { img: raw('raw4') }),
      present: () => listed('list_images/', raw('raw4')),
    },
    {
      name: 'copy',
      kinds: ['copy_image', 'remove_image'],
      make: () => send('PUT', 'copy_image/', ALICE, { img: 's1', dest_project: P, new_name: 'rc' }),
      unmake: () => send('DELETE', 'remove_image/', ALICE, { img: 'rc' }),
      present: () => listed('list_snapshots/', 'rc'),
    },
    {
      name: 'snapshot import',
      kinds: ['import_snapshot', 'remove_image'],
      make: () => send('PUT', 'import_image/', ADMIN, { img: raw('raw3'), snap: 'gold', protect: 'true' }),
      unmake: () => send('DELETE', 'remove_image/', ADMIN, { img: raw('raw3') }),
      present: () => listed('list_images/', raw('raw3')),
    },
    {
      name: 'mount',
      kinds: ['mount_image', 'umount_image'],
      make: () => send('PUT', 'mount_image/', ADMIN, { img: 'm1' }),
      unmake: () => send('DELETE', 'umount_image/', ADMIN, { img: 'm1' }),
      present: async () => 'm1' in (JSON.parse((await ok(send('POST', 'show_mounted/', ADMIN, {}))).text) as object),
    },
    {
      name: 'boot',
      kinds: ['provision', 'deprovision'],
      make: () => send('PUT', 'provision/', ALICE, { node: 'node-01', disk_name: 'd1', nic: 'eth0' }),
      unmake: () => send('DELETE', 'deprovision/', ALICE, { node: 'node-01', nic: 'eth0' }),
      present: async () => existsSync(path.join(dir, 'tftpboot', 'node-01.ipxe')),
    },
  ];

  it('a random-delay SIGKILL loop: at least 50 operations cut short, no drift after any restart, every retry succeeds', async () => {
    // how long each request takes when left alone: kills are drawn within it
    const took = new Map<string, number>();
    for (const p of PAIRS) {
      for (let k = 0; k < 2; k++) {
        const on = await p.present();
        const t0 = Date.now();
        await ok((on ? p.unmake : p.make)());
        took.set(`${p.name} ${on ? 'unmake' : 'make'}`, Date.now() - t0);
      }
    }
    const seen = new Set<string>();
    const ops = async () =>
      JSON.parse((await ok(send('POST', 'list_operations/', ADMIN, { limit: '1000' }))).text) as {
        id: string;
        kind: string;
        error: string | null;
      }[];
    for (const o of await ops()) seen.add(o.id);
    let interrupted = 0;
    let kills = 0;
    const byKind = new Map<string, number>();
    // at least 50 cut short, and every kind at least once (within 250 kills): the pairs take turns, then
    // only those with a kind not cut short yet
    const kinds = new Set(PAIRS.flatMap((p) => p.kinds));
    for (let i = 0; (interrupted < 50 || byKind.size < kinds.size) && i < 250; i++) {
      const missing = PAIRS.filter((x) => x.kinds.some((k) => !byKind.has(k)));
      const p = interrupted < 50 || !missing.length ? PAIRS[i % PAIRS.length] : missing[i % missing.length];
      const on = await p.present();
      const request = on ? p.unmake : p.make;
      const budget = took.get(`${p.name} ${on ? 'unmake' : 'make'}`) ?? 200;
      const delay = Math.floor(Math.random() * (budget + 20));
      const proc = server!;
      const pending = request().catch(() => null);
      await new Promise((r) => setTimeout(r, delay));
      proc.proc.kill('SIGKILL');
      kills++;
      const reply = await pending;
      await proc.exited;
      server = undefined;
      await start();
      const report = JSON.parse((await ok(send('POST', 'reconcile/', ADMIN, {}))).text) as { drift: unknown[] };
      // on drift, what recovery said helps the one who reads the failure
      const said = report.drift.length
        ? server!
            .output()
            .split('\n')
            .filter((l) => /could not|failed/.test(l))
        : [];
      expect({ i, kind: p.name, delay, drift: report.drift, said }).toEqual({
        i,
        kind: p.name,
        delay,
        drift: [],
        said: [],
      });
      for (const o of await ops()) {
        if (seen.has(o.id)) continue;
        seen.add(o.id);
        if (o.error?.startsWith('interrupted')) {
          interrupted++;
          byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
        }
      }
      // answered before the kill, rolled forward, or rolled back and retried: it ends up done
      if ((await p.present()) === on) {
        expect({ i, retry: (await request()).status, before: reply?.status ?? 'killed' }).toEqual({
          i,
          retry: 200,
          before: reply?.status ?? 'killed',
        });
      }
      expect(await p.present()).toBe(!on);
    }
    process.stdout.write(
      `
random-delay kill loop: ${kills} kills, ${interrupted} operations cut short ` +
        `(${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}), no drift after any restart, every retry 200\n`,
    );
    expect(interrupted).toBeGreaterThanOrEqual(50);
    expect([...byKind.keys()].sort()).toEqual([...kinds].sort());
  }, 900000);

  it('the reconciler on Ceph and tgtd: planted drift found by kind, the safe part repaired, the rest left', async () => {
    const rows = JSON.parse((await ok(send('POST', 'list_all_images/', ADMIN, {}))).text) as {
      name: string;
      cephName: string;
    }[];
    const cephOf = (name: string) => rows.find((r) => r.name === name)!.cephName;
    const golden = cephOf(raw('gold'));
    const d1 = cephOf('d1');
    const tgt = tgtDriver();
    // an orphan clone this BMI made, an image named like BMI's that it did not make, a snapshot left on a
    // disk, and a disk whose target is gone
    await ceph.clone(golden, 'bmi_snapshot', `${uid}img900`);
    const [failed] = JSON.parse(
      (await ok(send('POST', 'list_operations/', ADMIN, { state: 'rolled_back', limit: '1' }))).text,
    ) as { id: string }[];
    await ceph.setMetadata(`${uid}img900`, {
      bmi_uid: uid,
      bmi_operation: failed.id,
      bmi_source: `${golden}@bmi_snapshot`,
    });
    await ceph.createImage(`${uid}img901`, 1 << 20);
    await ceph.createSnapshot(d1, 'bmi_snapshot');
    await tgt.removeTarget(d1);
    const report = JSON.parse((await ok(send('POST', 'reconcile/', ADMIN, {}))).text) as {
      drift: { kind: string; subject: string }[];
    };
    expect(report.drift.map((d) => `${d.kind} ${d.subject}`)).toEqual([
      `orphan_image ${uid}img900`,
      `unattributed_image ${uid}img901`,
      `leftover_snapshot proj1/d1 (${d1})`,
      `missing_target ${d1}`,
    ]);
    const fixed = JSON.parse((await ok(send('POST', 'reconcile/', ADMIN, { fix: 'true' }))).text) as {
      drift: { kind: string; repaired?: boolean }[];
    };
    expect(fixed.drift.map((d) => `${d.kind} ${String(d.repaired)}`)).toEqual([
      'orphan_image true',
      'unattributed_image undefined',
      'leftover_snapshot true',
      'missing_target true',
    ]);
    expect(await ceph.imageExists(`${uid}img900`)).toBe(false);
    expect(await ceph.listSnapshots(d1)).toEqual([]);
    expect((await tgt.listTargets()).find((t) => t.name === d1)).toMatchObject({ image: d1 });
    const after = JSON.parse((await ok(send('POST', 'reconcile/', ADMIN, {}))).text) as { drift: { kind: string }[] };
    expect(after.drift.map((d) => d.kind)).toEqual(['unattributed_image']);
    await ceph.removeImage(`${uid}img901`);
  }, 120000);
});
