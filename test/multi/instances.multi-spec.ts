/**
 * Several BMI instances on one PostgreSQL database, one Ceph pool, one tgtd and one TFTP root (`npm run
 * test:multi`, part of npm test): real processes, started at once on an empty database.
 *
 * - The same request sent 100 times across the instances at once gets the answers one instance would give:
 *   one success, and 409 for the others.
 * - A mixed load (create_disk, delete_disk, provision, deprovision, create_snapshot, remove_image on a few
 *   overlapping names) from 16 clients spread across the instances, during which one instance is SIGKILLed in
 *   the middle of a create_disk (and of whatever else it was doing). Its operations are taken over and
 *   finished by the others; then the database, the pool, the targets and the boot files agree (the
 *   reconciler finds no drift), and every instance left answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { purgeRun } from '../utils/purge';
import { ok, realBmiConfig, Reply, sendForm, User } from '../utils/real-bmi';
import { freePort, ServerProcess, startServer, waitFor } from '../utils/server-process';
import { freshPgDatabase, TestDatabase } from '../utils/test-db';
import { describeWithTgt, TgtEnv, tgtDriverFor } from '../utils/tgt-env';

const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };
const P = 'proj1';
const INSTANCES = 3;
const CLIENTS = 16;
const REQUESTS_PER_CLIENT = 14;
const LEASE_SECONDS = 6;
const NODES = ['node-01', 'node-02', 'node-03', 'node-04'];
const DISKS = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
const SNAPS = ['s0', 's1', 's2'];

interface Operation {
  id: string;
  kind: string;
  state: string;
  error: string | null;
  /** ISO time of its last write */
  updated: string;
}

describeWithTgt('several BMI instances on one PostgreSQL, one Ceph pool and one tgtd', (env: TgtEnv) => {
  const uid = `m${randomBytes(3).toString('hex')}`;
  const raw = (name: string) => `${uid}${name}`;
  let dir: string;
  let db: TestDatabase;
  let ceph: CephRbdStorage | undefined;
  const ports: number[] = [];
  const servers: (ServerProcess | undefined)[] = [];
  const figures: string[] = [];

  function config(i: number): string {
    return realBmiConfig(env, {
      uid,
      dir,
      port: ports[i],
      seed: `${dir}/hil-seed.json`,
      db: [`url = ${db.location}`, 'pool = 8', `lease_seconds = ${LEASE_SECONDS}`],
      iscsi: ['tgt_shared = true', 'reconcile_seconds = 3'],
    });
  }

  const killFile = (i: number) => path.join(dir, `kill-at-${i}`);

  async function start(i: number): Promise<void> {
    writeFileSync(path.join(dir, `bmi-${i}.cfg`), config(i));
    servers[i] = startServer({ BMI_CONFIG: path.join(dir, `bmi-${i}.cfg`), BMI_TEST_KILL_FILE: killFile(i) });
    await waitFor(servers[i]!, 'serving on', 90000);
  }

  async function stop(i: number): Promise<void> {
    const s = servers[i];
    if (!s) return;
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    await s.exited;
    servers[i] = undefined;
  }

  /** A request to instance `i`; a connection that died with the instance is status 0. */
  const send = (i: number, method: string, route: string, user: User, fields: Record<string, string>) =>
    sendForm(`http://127.0.0.1:${ports[i]}`, method, route, user, { project: P, ...fields }).catch(
      (e: Error): Reply => ({ status: 0, text: e.message }),
    );

  const alive = () =>
    servers.flatMap((s, i) => (s && s.proc.exitCode === null && s.proc.signalCode === null ? [i] : []));

  async function operations(i: number): Promise<Operation[]> {
    return JSON.parse((await ok(send(i, 'POST', 'list_operations/', ADMIN, { limit: '1000' }))).text) as Operation[];
  }

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-multi-'));
    // an empty database: the instances that start at once apply the migrations once between them
    db = await freshPgDatabase(false);
    writeFileSync(
      path.join(dir, 'hil-seed.json'),
      JSON.stringify({
        users: {
          admin: { password: 'admin', is_admin: true, projects: [] },
          alice: { password: 'alicepass', is_admin: false, projects: [P] },
        },
        projects: [P],
        nodes: Object.fromEntries(
          NODES.map((n, k) => [n, { project: P, nics: [{ label: 'eth0', macaddr: `52:54:00:00:10:0${k}` }] }]),
        ),
      }),
    );
    for (let i = 0; i < INSTANCES; i++) ports.push(await freePort());
    ceph = await CephRbdStorage.connect({ ...env.ceph, timeoutSeconds: 20 });
    await ceph.createImage(raw('gold'), 16 << 20);
    await Promise.all(Array.from({ length: INSTANCES }, (_, i) => start(i)));
    await ok(send(0, 'PUT', 'add_project/', ADMIN, { project: 'bmi_infra', name: P }));
    await ok(send(1, 'PUT', 'import_image/', ADMIN, { img: raw('gold') }));
  }, 180000);

  afterAll(async () => {
    process.stdout.write(`\nseveral instances on one database:\n${figures.join('\n')}\n`);
    for (let i = 0; i < INSTANCES; i++) await stop(i);
    await purgeRun(uid, tgtDriverFor(env), ceph);
    await ceph?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 120000);

  async function drift(i: number): Promise<unknown[]> {
    return (JSON.parse((await ok(send(i, 'POST', 'reconcile/', ADMIN, {}))).text) as { drift: unknown[] }).drift;
  }

  it('100 identical create_disk across the instances: exactly one succeeds, the others are told it exists', async () => {
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, k) =>
        send(k % INSTANCES, 'PUT', 'create_disk', ALICE, { disk_name: 'same', img: raw('gold') }),
      ),
    );
    const ms = Date.now() - started;
    const byStatus = count(replies.map((r) => r.status));
    expect(byStatus).toEqual({ 200: 1, 409: 99 });
    // the original's answer to a disk that exists, the same from every instance
    const conflicts = new Set(replies.filter((r) => r.status === 409).map((r) => r.text));
    expect([...conflicts]).toEqual([expect.stringMatching(/^Disk exists\. Endpoint:/)]);
    expect(await drift(2)).toEqual([]);
    await ok(send(1, 'DELETE', 'delete_disk', ALICE, { disk_name: 'same' }));
    figures.push(
      `identical create_disk: 100 requests on ${INSTANCES} instances in ${ms} ms → ${JSON.stringify(byStatus)}`,
    );
  }, 120000);

  it('a mixed load on overlapping names, one instance SIGKILLed in the middle: taken over, no drift', async () => {
    const victim = INSTANCES - 1;
    const victimPid = servers[victim]!.proc.pid!;
    const statuses: number[] = [];
    let sent = 0;
    let killedAt = 0;
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const request = (i: number): Promise<Reply> => {
      const disk = pick(DISKS);
      switch (pick(['create_disk', 'create_disk', 'delete_disk', 'provision', 'deprovision', 'snapshot', 'remove'])) {
        case 'create_disk':
          return send(i, 'PUT', 'create_disk', ALICE, { disk_name: disk, img: raw('gold') });
        case 'delete_disk':
          return send(i, 'DELETE', 'delete_disk', ALICE, { disk_name: disk });
        case 'provision':
          return send(i, 'PUT', 'provision/', ALICE, { node: pick(NODES), disk_name: disk, nic: 'eth0' });
        case 'deprovision':
          return send(i, 'DELETE', 'deprovision/', ALICE, { node: pick(NODES), nic: 'eth0' });
        case 'snapshot':
          return send(i, 'PUT', 'create_snapshot/', ALICE, { disk_name: disk, snap_name: pick(SNAPS) });
        default:
          return send(i, 'DELETE', 'remove_image/', ALICE, { img: pick(SNAPS) });
      }
    };
    const client = async (c: number) => {
      for (let k = 0; k < REQUESTS_PER_CLIENT; k++) {
        const n = sent++;
        if (n === Math.floor((CLIENTS * REQUESTS_PER_CLIENT) / 3)) {
          // the victim dies right after its next create_disk cloned the image, before it exported it
          writeFileSync(killFile(victim), 'create_disk:2:ran');
          killedAt = Date.now();
          statuses.push(
            (await send(victim, 'PUT', 'create_disk', ALICE, { disk_name: 'victim', img: raw('gold') })).status,
          );
          continue;
        }
        const targets = alive();
        statuses.push((await request(targets[(c + k) % targets.length])).status);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const loadMs = Date.now() - started;
    await servers[victim]!.exited;
    expect(servers[victim]!.proc.signalCode).toBe('SIGKILL');

    // the survivors take the victim's operations over and finish them
    const victimOps = (ops: Operation[]) => ops.filter((o) => o.error?.includes(`:${victimPid}:`) ?? false);
    let ops = await operations(0);
    while (ops.some((o) => o.state === 'running' || o.state === 'interrupted')) {
      expect(Date.now() - killedAt).toBeLessThan(60000);
      await new Promise((r) => setTimeout(r, 200));
      ops = await operations(0);
    }
    const takenOver = victimOps(ops);
    // from the kill to the last write of the recovery of its operations
    const tookOverMs = Math.max(...takenOver.map((o) => Date.parse(o.updated))) - killedAt;
    expect(takenOver.length).toBeGreaterThanOrEqual(1);
    expect(takenOver.map((o) => o.state).every((s) => s === 'rolled_back' || s === 'rolled_forward')).toBe(true);
    expect(takenOver.some((o) => o.kind === 'create_disk')).toBe(true);

    // every answer is one a single instance gives: done, not found, conflict; or the connection cut by the kill
    const byStatus = count(statuses);
    expect(Object.keys(byStatus).filter((s) => !['0', '200', '404', '409'].includes(s))).toEqual([]);
    expect(byStatus[200]).toBeGreaterThan(0);
    expect(byStatus[409]).toBeGreaterThan(0);

    // BMI lets a disk go while a node still boots from it (as the original did): such a node's boot file is
    // reported for an operator; nothing else may differ
    for (const i of alive()) {
      expect((await drift(i)).filter((d) => (d as { kind: string }).kind !== 'stale_boot_file')).toEqual([]);
    }
    for (const node of NODES) {
      expect([200, 404]).toContain((await send(0, 'DELETE', 'deprovision/', ALICE, { node, nic: 'eth0' })).status);
    }
    for (const i of alive()) expect(await drift(i)).toEqual([]);
    // the disk the victim was making was rolled back: the name is free again
    await ok(send(0, 'PUT', 'create_disk', ALICE, { disk_name: 'victim', img: raw('gold') }));
    expect(await drift(1)).toEqual([]);

    figures.push(
      `mixed load: ${statuses.length} requests from ${CLIENTS} clients in ${loadMs} ms → ${JSON.stringify(byStatus)}` +
        ` (0: cut by the kill)`,
      `operations: ${ops.length} in all, ${takenOver.length} of the killed instance taken over ` +
        `(${takenOver.map((o) => `${o.kind} ${o.state}`).join(', ')}), the last one finished ${tookOverMs} ms after the kill`,
    );
  }, 300000);
});

function count(xs: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
