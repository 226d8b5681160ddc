import { loadConfig } from '../../../config/app-config';
import { ProjectAccess } from '../../access/project-access.service';
import type { ProjectsService } from '../../projects/projects.service';
import {
  AdminRequiredError,
  HilAuthenticationError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  NodeNotOwnedError,
} from '../hil.errors';
import * as hashing from '../../standalone/password-hash';
import { DirectoryNode, DirectoryUser, StandaloneDirectory } from '../../standalone/standalone-directory';
import { StandaloneHilClient } from './standalone-hil.client';

/** The error the call rejects with; a call that succeeds fails the test. */
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => Promise.reject(new Error('expected the call to fail')),
    (e: Error & { status: number }) => e,
  );

const CHEAP = { ln: 4, r: 8, p: 1 };
const NO_ACCESS = 'You do not have access to the required project.';

/** An in-memory StandaloneDirectory with real password hashes. */
class MemoryDirectory extends StandaloneDirectory {
  users = new Map<string, DirectoryUser>();
  nodes = new Map<string, DirectoryNode>();
  projects = new Set<string>();

  async addUser(name: string, password: string, isAdmin: boolean, projects: string[]): Promise<void> {
    this.users.set(name, { name, passwordHash: await hashing.hashPassword(password, CHEAP), isAdmin, projects });
  }
  async findUser(name: string): Promise<DirectoryUser | null> {
    const u = this.users.get(name);
    return u ? { ...u, projects: [...u.projects] } : null;
  }
  async replacePasswordHash(name: string, current: string, next: string): Promise<boolean> {
    const user = this.users.get(name);
    if (!user || user.passwordHash !== current) return false;
    this.users.set(name, { ...user, passwordHash: next });
    return true;
  }

  async findNode(name: string): Promise<DirectoryNode | null> {
    const n = this.nodes.get(name);
    return n ? { ...n, nics: n.nics.map((x) => ({ ...x })) } : null;
  }
  async projectExists(name: string): Promise<boolean> {
    return this.projects.has(name);
  }
  async listNodes(project: string | null): Promise<string[]> {
    return [...this.nodes.values()]
      .filter((n) => n.project === project)
      .map((n) => n.name)
      .sort();
  }
}

const c = {
  admin: { username: 'admin', password: 'adminpw' },
  alice: { username: 'alice', password: 'alice:pw' },
  bob: { username: 'bob', password: 'bobpw' },
  carol: { username: 'carol', password: 'carolpw' },
  wrong: { username: 'alice', password: 'nope' },
  unknown: { username: 'mallory', password: 'alice:pw' },
};

let dir: MemoryDirectory;
let hil: StandaloneHilClient;

beforeEach(async () => {
  dir = new MemoryDirectory();
  dir.projects = new Set(['bmi_infra', 'proj1', 'proj2', 'empty']);
  await dir.addUser('admin', 'adminpw', true, []);
  await dir.addUser('alice', 'alice:pw', false, ['proj1']);
  await dir.addUser('bob', 'bobpw', false, ['proj2']);
  await dir.addUser('carol', 'carolpw', false, ['bmi_infra']);
  dir.nodes.set('node-01', {
    name: 'node-01',
    project: 'proj1',
    nics: [
      { label: 'eth0', macaddr: '52:54:00:12:34:56' },
      { label: 'eth1', macaddr: '52:54:00:ab:cd:ef' },
    ],
  });
  dir.nodes.set('node-02', { name: 'node-02', project: null, nics: [] });
  dir.nodes.set('node-03', { name: 'node-03', project: 'proj2', nics: [] });
  dir.nodes.set('node-00', { name: 'node-00', project: null, nics: [] });
  hil = new StandaloneHilClient(dir, { cost: CHEAP });
});
afterEach(() => jest.restoreAllMocks());

describe('StandaloneHilClient: authentication', () => {
  it.each([
    ['a wrong password', c.wrong],
    ['an unknown user', c.unknown],
    ['an empty password', { username: 'alice', password: '' }],
  ])('%s is HilAuthenticationError (401 "Authentication Failed") on every call', async (_n, creds) => {
    for (const call of [
      () => hil.getNode(creds, 'node-02'),
      () => hil.listProjectNodes(creds, 'proj1'),
      () => hil.isAdmin(creds),
    ]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(HilAuthenticationError);
      expect(err).toMatchObject({ status: 401, message: 'Authentication Failed' });
    }
  });

  it('checks the credentials before anything else: an unknown node or project with a wrong password is 401', async () => {
    await expect(hil.getNode(c.wrong, 'nope')).rejects.toThrow(HilAuthenticationError);
    await expect(hil.listProjectNodes(c.wrong, 'nope')).rejects.toThrow(HilAuthenticationError);
  });

  it('an unknown user costs a verification too (no probing user names by timing)', async () => {
    const burn = jest.spyOn(hashing, 'burnVerification');
    await expect(hil.isAdmin(c.unknown)).rejects.toThrow(HilAuthenticationError);
    expect(burn).toHaveBeenCalledTimes(1);
  });

  it('remembers a successful check for a while instead of running scrypt on every call', async () => {
    const verify = jest.spyOn(hashing, 'verifyPassword');
    await hil.isAdmin(c.alice);
    await hil.getNode(c.alice, 'node-01');
    await hil.listProjectNodes(c.alice, 'proj1');
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('never remembers a failure, nor lets a wrong password ride on a remembered success', async () => {
    const verify = jest.spyOn(hashing, 'verifyPassword');
    await hil.isAdmin(c.alice);
    await expect(hil.isAdmin(c.wrong)).rejects.toThrow(HilAuthenticationError);
    await expect(hil.isAdmin(c.wrong)).rejects.toThrow(HilAuthenticationError);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('a changed password takes effect at once: the old one is refused although it was remembered', async () => {
    await hil.isAdmin(c.alice);
    const alice = dir.users.get('alice')!;
    alice.passwordHash = await hashing.hashPassword('new-pw', CHEAP);
    await expect(hil.isAdmin(c.alice)).rejects.toThrow(HilAuthenticationError);
    await expect(hil.isAdmin({ username: 'alice', password: 'new-pw' })).resolves.toBe(false);
  });

  it('redoes a hash made at a lower cost at the next successful login, and keeps a password changed meanwhile', async () => {
    const stronger = { ...CHEAP, ln: 6 };
    const upgrading = new StandaloneHilClient(dir, { cost: stronger });
    const before = dir.users.get('alice')!.passwordHash;
    await expect(upgrading.isAdmin({ username: 'alice', password: 'wrong' })).rejects.toThrow(HilAuthenticationError);
    expect(dir.users.get('alice')!.passwordHash).toBe(before); // a refused login changes nothing
    await upgrading.isAdmin(c.alice);
    const after = dir.users.get('alice')!.passwordHash;
    expect(after).toMatch(/^\$scrypt\$ln=6,r=8,p=1\$/);
    expect(await hashing.verifyPassword('alice:pw', after)).toBe(true);
    // the new hash is the one remembered: the next login does not verify again
    const verify = jest.spyOn(hashing, 'verifyPassword');
    await upgrading.isAdmin(c.alice);
    expect(verify).not.toHaveBeenCalled();
    // replaced only if unchanged: a password set meanwhile wins
    expect(await dir.replacePasswordHash('alice', before, 'stale')).toBe(false);
  });

  it('hashes at most maxHashing passwords at once: a flood of guesses waits its turn', async () => {
    let running = 0;
    let most = 0;
    const verify = hashing.verifyPassword;
    jest.spyOn(hashing, 'verifyPassword').mockImplementation(async (...args) => {
      most = Math.max(most, ++running);
      try {
        return await verify(...args);
      } finally {
        running--;
      }
    });
    const gated = new StandaloneHilClient(dir, { cost: CHEAP, maxHashing: 2, verifiedTtlMs: 0 });
    const guesses = Array.from({ length: 12 }, (_, i) => gated.isAdmin({ username: 'alice', password: `g${i}` }));
    for (const g of guesses) await expect(g).rejects.toThrow(HilAuthenticationError);
    expect(most).toBe(2);
  });

  it('a deleted user is refused at once', async () => {
    await hil.isAdmin(c.alice);
    dir.users.delete('alice');
    await expect(hil.isAdmin(c.alice)).rejects.toThrow(HilAuthenticationError);
  });

  it('forgets a success after the TTL, and remembers nothing with a TTL of 0', async () => {
    let now = 1000;
    const verify = jest.spyOn(hashing, 'verifyPassword');
    const timed = new StandaloneHilClient(dir, { verifiedTtlMs: 500, now: () => now, cost: CHEAP });
    await timed.isAdmin(c.alice);
    now += 499;
    await timed.isAdmin(c.alice);
    expect(verify).toHaveBeenCalledTimes(1);
    now += 1;
    await timed.isAdmin(c.alice);
    expect(verify).toHaveBeenCalledTimes(2);
    const off = new StandaloneHilClient(dir, { verifiedTtlMs: 0, cost: CHEAP });
    await off.isAdmin(c.alice);
    await off.isAdmin(c.alice);
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('keeps at most maxVerified remembered checks', async () => {
    const verify = jest.spyOn(hashing, 'verifyPassword');
    const small = new StandaloneHilClient(dir, { maxVerified: 1 });
    await small.isAdmin(c.alice);
    await small.isAdmin(c.bob); // pushes alice out
    await small.isAdmin(c.alice);
    expect(verify).toHaveBeenCalledTimes(3);
  });
});

describe('StandaloneHilClient.getNode', () => {
  it('shows a node to a member of its project, NICs in registration order', async () => {
    expect(await hil.getNode(c.alice, 'node-01')).toEqual({
      name: 'node-01',
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:ab:cd:ef' },
      ],
    });
  });

  it('shows any node to an admin', async () => {
    expect((await hil.getNode(c.admin, 'node-03')).project).toBe('proj2');
  });

  it('a node of another project is 401 "You do not have access to the required project."', async () => {
    const err = await rejection(hil.getNode(c.bob, 'node-01'));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err).toMatchObject({ status: 401, message: NO_ACCESS });
  });

  it('a free node is visible to any authenticated user', async () => {
    expect(await hil.getNode(c.bob, 'node-02')).toEqual({ name: 'node-02', project: null, nics: [] });
    expect(await hil.getNode(c.carol, 'node-02')).toMatchObject({ project: null });
  });

  it('an unknown node is HilNodeNotFoundError (404 "node nope not found")', async () => {
    const err = await rejection(hil.getNode(c.alice, 'nope'));
    expect(err).toBeInstanceOf(HilNodeNotFoundError);
    expect(err).toMatchObject({ status: 404, message: 'node nope not found' });
  });

  it('hands out copies: changing the answer changes nothing stored', async () => {
    const n = await hil.getNode(c.alice, 'node-01');
    n.nics[0].macaddr = 'changed';
    expect((await hil.getNode(c.alice, 'node-01')).nics[0].macaddr).toBe('52:54:00:12:34:56');
  });
});

describe('StandaloneHilClient.listProjectNodes', () => {
  it("lists a project's nodes to its members and to admins", async () => {
    expect(await hil.listProjectNodes(c.alice, 'proj1')).toEqual(['node-01']);
    expect(await hil.listProjectNodes(c.admin, 'proj2')).toEqual(['node-03']);
    expect(await hil.listProjectNodes(c.admin, 'empty')).toEqual([]);
  });

  it('refuses a non-member with 401 "You do not have access to the required project."', async () => {
    const err = await rejection(hil.listProjectNodes(c.bob, 'proj1'));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err).toMatchObject({ status: 401, message: NO_ACCESS });
  });

  it('an unknown project is HilProjectNotFoundError (404), checked before membership as HIL does', async () => {
    for (const who of [c.alice, c.admin]) {
      const err = await rejection(hil.listProjectNodes(who, 'nope'));
      expect(err).toBeInstanceOf(HilProjectNotFoundError);
      expect(err.status).toBe(404);
    }
  });
});

describe('StandaloneHilClient.isAdmin', () => {
  it('isAdmin is the admin flag', async () => {
    expect(await hil.isAdmin(c.admin)).toBe(true);
    expect(await hil.isAdmin(c.alice)).toBe(false);
    expect(await hil.isAdmin(c.carol)).toBe(false);
  });
});

describe('ProjectAccess over StandaloneHilClient: the same rules as with HIL', () => {
  let access: ProjectAccess;
  const projects = { require: (name: string) => Promise.resolve({ id: 1, name }) } as unknown as ProjectsService;
  beforeEach(() => {
    const config = loadConfig({
      env: {},
      text:
        '[bmi]\nuid = 5\n[db]\npath = :memory:\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = standalone\n' +
        '[net_isolator]\ncache_seconds = 0\n[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = /tmp/p\nipxe_path = /tmp/i\n',
    });
    access = new ProjectAccess(hil, projects, config);
  });
  const caller = (creds: { username: string; password: string }, project: string) => ({
    credentials: creds,
    project,
  });
  const owned = async (who: ReturnType<typeof caller>, node: string) =>
    (await access.resolve(who, 'member')).ownedNode(node);

  it('project access: members and admins; a non-member 401; a wrong password 401', async () => {
    await expect(access.resolve(caller(c.alice, 'proj1'), 'member')).resolves.toBeDefined();
    await expect(access.resolve(caller(c.admin, 'proj2'), 'member')).resolves.toBeDefined();
    await expect(access.resolve(caller(c.bob, 'proj1'), 'member')).rejects.toThrow(HilAuthenticationError);
    await expect(access.resolve(caller(c.wrong, 'proj1'), 'member')).rejects.toThrow(HilAuthenticationError);
  });

  it('admin: the admin flag, or membership of the admin project; others 403, a wrong password 401', async () => {
    await expect(access.resolve(caller(c.admin, 'proj1'), 'admin')).resolves.toBeDefined();
    await expect(access.resolve(caller(c.carol, 'proj1'), 'admin')).resolves.toBeDefined();
    await expect(access.resolve(caller(c.alice, 'proj1'), 'admin')).rejects.toThrow(AdminRequiredError);
    await expect(access.resolve(caller(c.wrong, 'proj1'), 'admin')).rejects.toThrow(HilAuthenticationError);
  });

  it("node ownership: own node yes; a free node 403; another project's node 401, or 403 for an admin", async () => {
    expect((await owned(caller(c.alice, 'proj1'), 'node-01')).name).toBe('node-01');
    const free = await rejection(owned(caller(c.alice, 'proj1'), 'node-02'));
    expect(free).toBeInstanceOf(NodeNotOwnedError);
    expect(free.message).toBe('Node node-02 is free: it must belong to project proj1');
    await expect(owned(caller(c.alice, 'proj1'), 'node-03')).rejects.toThrow(HilAuthenticationError);
    await expect(owned(caller(c.admin, 'proj2'), 'node-01')).rejects.toThrow(NodeNotOwnedError);
    await expect(owned(caller(c.alice, 'proj1'), 'nope')).rejects.toThrow(HilNodeNotFoundError);
  });
});
