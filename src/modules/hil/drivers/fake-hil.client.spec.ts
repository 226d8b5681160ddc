import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HilAuthenticationError, HilNodeNotFoundError, HilProjectNotFoundError } from '../hil.errors';
import { DEFAULT_HIL_SEED, HilSeed } from '../hil-directory';
import { FakeHilClient } from './fake-hil.client';

const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
    bob: { password: 'bobpass', is_admin: false, projects: ['proj2'] },
    eve: { password: 'evepass' },
  },
  projects: ['proj1', 'proj2', 'empty'],
  nodes: {
    'node-01': {
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    },
    'node-03': { project: 'proj1', nics: [] },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
    'node-00': { nics: [] },
  },
};

const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };
const BOB = { username: 'bob', password: 'bobpass' };
const EVE = { username: 'eve', password: 'evepass' };

let hil: FakeHilClient;
beforeEach(() => (hil = new FakeHilClient(SEED)));

describe('FakeHilClient: authentication', () => {
  const bad = [
    ['an unknown user', { username: 'mallory', password: 'x' }],
    ['a wrong password', { username: 'alice', password: 'wrong' }],
    ['an empty password', { username: 'alice', password: '' }],
    ['a user name that is an Object.prototype key', { username: 'constructor', password: '' }],
    ['a user name that is __proto__', { username: '__proto__', password: '' }],
  ] as const;

  it.each(bad)('%s is HilAuthenticationError (401) on every call', async (_, creds) => {
    for (const call of [
      () => hil.getNode(creds, 'node-02'),
      () => hil.listProjectNodes(creds, 'proj1'),
      () => hil.isAdmin(creds),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HilAuthenticationError);
      expect((err as HilAuthenticationError).status).toBe(401);
      expect((err as Error).message).toBe('Authentication Failed');
    }
  });

  it('authentication comes before the node look-up (no probing for node names)', async () => {
    await expect(hil.getNode({ username: 'alice', password: 'x' }, 'nope')).rejects.toThrow(HilAuthenticationError);
  });
});

describe('FakeHilClient.getNode', () => {
  it('shows an owned node to a member, MACs verbatim', async () => {
    expect(await hil.getNode(ALICE, 'node-01')).toEqual({
      name: 'node-01',
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    });
  });

  it('hides an owned node from a non-member (HIL 401)', async () => {
    const err = await hil.getNode(BOB, 'node-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect((err as Error).message).toBe('You do not have access to the required project.');
  });

  it('shows a free node to any authenticated user, project null', async () => {
    expect(await hil.getNode(BOB, 'node-02')).toMatchObject({ name: 'node-02', project: null });
    expect(await hil.getNode(EVE, 'node-02')).toMatchObject({ project: null });
    expect(await hil.getNode(EVE, 'node-00')).toEqual({ name: 'node-00', project: null, nics: [] });
  });

  it('shows every node to an admin', async () => {
    expect((await hil.getNode(ADMIN, 'node-01')).project).toBe('proj1');
    expect((await hil.getNode(ADMIN, 'node-02')).project).toBeNull();
  });

  it('an unknown node is HilNodeNotFoundError (404); names are case-sensitive', async () => {
    await expect(hil.getNode(ADMIN, 'nope')).rejects.toThrow(HilNodeNotFoundError);
    await expect(hil.getNode(ADMIN, 'NODE-01')).rejects.toThrow('node NODE-01 not found');
  });

  it('returns copies: changing a result does not change HIL', async () => {
    const n = await hil.getNode(ALICE, 'node-01');
    n.nics[0].macaddr = 'changed';
    n.nics.pop();
    expect((await hil.getNode(ALICE, 'node-01')).nics).toHaveLength(2);
    expect((await hil.getNode(ALICE, 'node-01')).nics[0].macaddr).toBe('52:54:00:12:34:56');
  });
});

describe('FakeHilClient.listProjectNodes', () => {
  it('lists the project’s nodes for a member and for an admin', async () => {
    expect(await hil.listProjectNodes(ALICE, 'proj1')).toEqual(['node-01', 'node-03']);
    expect(await hil.listProjectNodes(ADMIN, 'proj1')).toEqual(['node-01', 'node-03']);
    expect(await hil.listProjectNodes(BOB, 'proj2')).toEqual([]);
  });

  it('refuses a non-member with 401, and a user in no project at all', async () => {
    await expect(hil.listProjectNodes(BOB, 'proj1')).rejects.toThrow(HilAuthenticationError);
    await expect(hil.listProjectNodes(EVE, 'proj1')).rejects.toThrow(HilAuthenticationError);
  });

  it('an admin is not a member of a project he is not in, but still sees it', async () => {
    expect(await hil.listProjectNodes(ADMIN, 'empty')).toEqual([]);
  });

  it('an unknown project is HilProjectNotFoundError (404), for members of other projects and admins alike', async () => {
    await expect(hil.listProjectNodes(ADMIN, 'nope')).rejects.toThrow(HilProjectNotFoundError);
    await expect(hil.listProjectNodes(ALICE, 'nope')).rejects.toThrow('project nope not found in HIL');
  });
});

describe('FakeHilClient.isAdmin', () => {
  it('tells admins from other users', async () => {
    expect(await hil.isAdmin(ADMIN)).toBe(true);
    expect(await hil.isAdmin(ALICE)).toBe(false);
    expect(await hil.isAdmin(BOB)).toBe(false);
  });
});

describe('FakeHilClient seeds', () => {
  it('fromFile reads a JSON seed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-hil-'));
    try {
      const file = path.join(dir, 'seed.json');
      writeFileSync(file, JSON.stringify(SEED));
      const fromFile = FakeHilClient.fromFile(file);
      expect(await fromFile.listProjectNodes(ALICE, 'proj1')).toEqual(['node-01', 'node-03']);
      await expect(fromFile.getNode(BOB, 'node-01')).rejects.toThrow(HilAuthenticationError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a seed that contradicts itself, naming every problem (the test server reads the same seeds)', () => {
    expect(
      () =>
        new FakeHilClient({
          users: { u: { password: 'p', projects: ['x'] } },
          projects: [],
          nodes: {
            n: {
              project: 'y',
              nics: [
                { label: 'eth0', macaddr: 'a' },
                { label: 'eth0', macaddr: 'b' },
              ],
            },
          },
        }),
    ).toThrow(
      'bad HIL seed: user u: project x is not in "projects"; node n: project y is not in "projects"; node n: NIC eth0 twice',
    );
  });

  it('fromFile of a file that is not JSON fails', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-hil-'));
    try {
      writeFileSync(path.join(dir, 'seed.json'), 'users: {}');
      expect(() => FakeHilClient.fromFile(path.join(dir, 'seed.json'))).toThrow(SyntaxError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a seed it uses the default one (admin/admin, alice in proj1, bob in proj2)', async () => {
    const d = new FakeHilClient();
    expect(DEFAULT_HIL_SEED.projects).toEqual(['bmi_infra', 'proj1', 'proj2']);
    expect(await d.isAdmin({ username: 'admin', password: 'admin' })).toBe(true);
    expect(await d.listProjectNodes(ALICE, 'proj1')).toEqual(['node-01']);
    expect(await d.listProjectNodes(BOB, 'proj2')).toEqual([]);
    expect(await d.getNode(BOB, 'node-02')).toMatchObject({ project: null });
  });
});
