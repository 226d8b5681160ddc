/**
 * Nodes from an image to booting and back, in one command each: `bmi boot` and `bmi release` (runCli in-process,
 * through the SDK) against the whole app on the fake drivers, listening on a real port; `bmi node power` and
 * the /v1 routes under them. The fake power driver plays the nodes: a node that is cycled logs in to the
 * disk its boot files name (a session on its fake target), as a real one would once it has booted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/program';
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { FakeIscsiTargetDriver } from '../../src/modules/iscsi/drivers/fake-iscsi-target.driver';
import { FakePowerDriver } from '../../src/modules/power/drivers/fake-power.driver';
import { PowerDriver, type PowerAction } from '../../src/modules/power/power.driver';
import { addProject, captureState, importImage } from '../utils/e2e';
import { ALICE, BOB, startTestApp, TestApp } from '../utils/test-app';

const P = 'fleet';
const NODES = ['fn-1', 'fn-2', 'fn-3'];
const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: [P] },
    bob: { password: 'bobpass', projects: ['other'] },
  },
  projects: [P, 'other'],
  nodes: {
    ...Object.fromEntries(
      NODES.map((n, i) => [n, { project: P, nics: [{ label: 'eth0', macaddr: `52:54:00:f1:00:0${i + 1}` }] }]),
    ),
    'free-1': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:f1:00:09' }] },
  },
};

type User = { username: string; password: string };

let t: TestApp;
let url: string;
let home: string;
let power: FakePowerDriver;
let iscsi: FakeIscsiTargetDriver;
/** what the fake nodes were asked, in order */
const asked: [string, PowerAction][] = [];
/** nodes whose power requests fail (a BMC that does not answer) */
const broken = new Set<string>();

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'bmi-home-'));
  t = await startTestApp({ hilSeed: SEED });
  await t.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  power = t.app.get(PowerDriver) as FakePowerDriver;
  iscsi = t.iscsi as FakeIscsiTargetDriver;
  power.listen(async (node, action) => {
    asked.push([node, action]);
    if (broken.has(node)) throw new Error(`the BMC of ${node} does not answer`);
    // the node comes up on the disk its iPXE script names, or goes down (its own file only: other nodes' files
    // come and go meanwhile)
    const script = await readFile(path.join(t.tftpRoot, `${node}.ipxe`), 'utf8').catch(() => '');
    const target = /iscsi:[^ ]*:(\S+)\n/.exec(script)?.[1];
    if (target) iscsi.sessions.set(target, action === 'off' ? 0 : 1);
  });
  await addProject(t, P);
  await importImage(t, P, 'centos7');
});

// each test starts with nothing asked of the nodes (a failed one leaves its requests behind)
beforeEach(() => {
  asked.length = 0;
});

afterAll(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

async function bmi(user: User, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = { BMI_URL: url, HIL_USERNAME: user.username, HIL_PASSWORD: user.password, HOME: home };
  const code = await runCli(['node', 'bmi', ...args], {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

async function json<T>(user: User, ...args: string[]): Promise<{ code: number; value: T; err: string }> {
  const r = await bmi(user, '-f', 'json', ...args);
  return { code: r.code, value: JSON.parse(r.out || 'null') as T, err: r.err };
}

interface FleetRow {
  node: string;
  disk: string;
  state: string;
  step: string;
  ip: string | null;
  error: string | null;
}

describe('bmi node power', () => {
  it("switches a project's node and reads its state back; others' nodes and free ones are refused", async () => {
    expect((await json(ALICE, 'node', 'power', P, 'fn-3')).value).toEqual({ node: 'fn-3', state: 'off' });
    expect((await json(ALICE, 'node', 'power', P, 'fn-3', 'on')).value).toEqual({ node: 'fn-3', state: 'on' });
    expect((await json(ALICE, 'node', 'power', P, 'fn-3')).value).toEqual({ node: 'fn-3', state: 'on' });
    expect((await json(ALICE, 'node', 'power', P, 'fn-3', 'off')).value).toEqual({ node: 'fn-3', state: 'off' });
    expect(asked.splice(0)).toEqual([
      ['fn-3', 'on'],
      ['fn-3', 'off'],
    ]);
    // not the project's node: 403, and nothing was asked of it
    const free = await bmi(ALICE, 'node', 'power', P, 'free-1', 'cycle');
    expect([free.code, free.err]).toEqual([
      4,
      expect.stringMatching(/^Error \(403 NODE_NOT_OWNED\): Node free-1 is free/),
    ]);
    const stranger = await bmi(BOB, 'node', 'power', P, 'fn-1', 'off');
    expect(stranger.code).toBe(4);
    const bad = await bmi(ALICE, 'node', 'power', P, 'fn-1', 'reboot');
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('expected one of on, off, cycle')]);
    expect(asked).toEqual([]);
    // the /v1 route validates the action itself
    const res = await t
      .http()
      .post(`/v1/projects/${P}/nodes/fn-1/power`)
      .auth('alice', 'alicepass')
      .send({ action: 'up' });
    expect([res.status, res.body.code]).toEqual([400, 'BAD_REQUEST']);
  });
});

describe('bmi boot and bmi release', () => {
  it('boots three nodes at once and waits until each is on its own disk; releases them all, leaving nothing', async () => {
    const before = await captureState(t);
    const boot = await json<FleetRow[]>(ALICE, 'boot', P, 'centos7', ...NODES, '--wait', '--timeout', '20');
    expect(boot.code).toBe(0);
    expect(boot.value.map((r) => [r.node, r.disk, r.state, r.error])).toEqual(NODES.map((n) => [n, n, 'booted', null]));
    // not a terminal: one line per change on stderr, ending with each node on its disk
    for (const n of NODES) expect(boot.err).toMatch(new RegExp(`^${n}: booted on \\S+\n`, 'm'));
    expect(asked.splice(0).sort()).toEqual(NODES.map((n) => [n, 'cycle']));
    // each node: its own disk, cloned from the image, exported, booted from
    for (const n of NODES) {
      const d = await t.http().get(`/v1/projects/${P}/nodes/${n}/deployment`).auth('alice', 'alicepass');
      expect(d.body).toMatchObject({ node: n, disk: n, image: 'centos7', nic: 'eth0', attached: true });
    }
    const ops = await t.http().get(`/v1/projects/${P}/operations`).query({ limit: 10 }).auth('alice', 'alicepass');
    const deploys = (ops.body.items as { kind: string; state: string; steps: { name: string }[] }[]).filter(
      (o) => o.kind === 'deploy',
    );
    expect(deploys.map((o) => o.state)).toEqual(['done', 'done', 'done']);
    expect(deploys[0].steps.map((s) => s.name.replace(/fn-\d/g, 'N').replace(/\d+img\d+/g, 'C'))).toEqual([
      'insert image row N',
      expect.stringMatching(/^clone /),
      expect.stringMatching(/^export /),
      expect.stringMatching(/^mark /),
      // the iPXE script and the pxelinux file
      ...Array(2).fill(expect.stringMatching(/^write /)),
      'power cycle N',
    ]);

    // booting a node that is booted already is refused, and changes nothing
    const again = await json<FleetRow[]>(ALICE, 'boot', P, 'centos7', 'fn-1');
    expect(again.code).toBe(1);
    expect(again.value[0]).toMatchObject({
      state: 'failed',
      error: 'Error (409 NODE_IN_USE): Node fn-1 boots from disk fn-1: release it first',
    });

    const release = await json<FleetRow[]>(ALICE, 'release', P, ...NODES);
    expect(release.code).toBe(0);
    expect(release.value.map((r) => [r.node, r.disk, r.state])).toEqual(NODES.map((n) => [n, n, 'released']));
    expect(asked.splice(0).sort()).toEqual(NODES.map((n) => [n, 'off']));
    expect(await captureState(t)).toEqual(before);
  });

  it('a node whose power fails is rolled back to nothing, and the others boot', async () => {
    const before = await captureState(t);
    broken.add('fn-2');
    try {
      const boot = await json<FleetRow[]>(ALICE, 'boot', P, 'centos7', 'fn-1', 'fn-2');
      expect(boot.code).toBe(1);
      expect(boot.value.map((r) => [r.node, r.state, r.state === 'failed' ? r.error : null])).toEqual([
        ['fn-1', 'deployed', null],
        ['fn-2', 'failed', expect.stringMatching(/^operation \S+ ended rolled_back: power cycle fn-2: /)],
      ]);
    } finally {
      broken.delete('fn-2');
    }
    const after = await captureState(t);
    // only fn-1's disk and boot files are new
    expect(after.images.map((i) => i.name).sort()).toEqual([...before.images.map((i) => i.name), 'fn-1'].sort());
    expect(after.files.filter((f) => f.path.includes('fn-2') || f.path.includes('f1-00-02'))).toEqual([]);
    expect((await bmi(ALICE, 'release', P, 'fn-1')).code).toBe(0);
    expect(await captureState(t)).toEqual(before);
    asked.splice(0);
  });

  it('refuses what cannot be deployed before anything is made: an unknown image, a node of another project', async () => {
    const before = await captureState(t);
    const r = await json<FleetRow[]>(ALICE, 'boot', P, 'nope', 'fn-1', 'free-1');
    expect(r.code).toBe(1);
    expect(r.value.map((x) => [x.node, x.state])).toEqual([
      ['fn-1', 'failed'],
      ['free-1', 'failed'],
    ]);
    expect(r.value[0].error).toMatch(/nope/);
    expect(r.value[1].error).toMatch(/free-1 is free/);
    const notBooted = await json<FleetRow[]>(ALICE, 'release', P, 'fn-3');
    expect([notBooted.code, notBooted.value[0].error]).toEqual([
      1,
      'Error (404 NOT_PROVISIONED): Node fn-3 is not provisioned',
    ]);
    expect(await captureState(t)).toEqual(before);
    expect(asked).toEqual([]);
  });

  it('release --snapshot powers the node off and keeps its disk as a new image first', async () => {
    expect((await bmi(ALICE, 'boot', P, 'centos7', 'fn-3')).code).toBe(0);
    const r = await json<FleetRow[]>(ALICE, 'release', P, 'fn-3', '--snapshot', 'fn-3-saved');
    expect([r.code, r.value[0].state]).toEqual([0, 'released']);
    expect(asked.splice(0)).toEqual([
      ['fn-3', 'cycle'],
      ['fn-3', 'off'],
      ['fn-3', 'off'],
    ]);
    const img = await t.http().get(`/v1/projects/${P}/images/fn-3-saved`).auth('alice', 'alicepass');
    expect(img.status).toBe(200);
    const disk = await t.http().get(`/v1/projects/${P}/disks/fn-3`).auth('alice', 'alicepass');
    expect(disk.status).toBe(404);
    await t.http().delete(`/v1/projects/${P}/images/fn-3-saved`).auth('admin', 'admin');
  });
});

describe('the fake power driver', () => {
  it('starts every node off and follows the last action', async () => {
    const d = new FakePowerDriver();
    expect(await d.status('x')).toBe('off');
    await d.act('x', null, 'cycle');
    expect(await d.status('x')).toBe('on');
    await d.act('x', null, 'off');
    expect(await d.status('x')).toBe('off');
  });
});
