import { loadConfig } from '../../config/app-config';
import { FakeHilClient } from '../hil/drivers/fake-hil.client';
import type { HilSeed } from '../hil/hil-directory';
import { ProjectNotFoundError } from '../projects/projects.errors';
import type { ProjectsService } from '../projects/projects.service';
import { AccessLevel } from './access-level';
import { TooManyFailedLoginsError } from './login-throttle';
import { ProjectAccess } from './project-access.service';
import {
  AdminRequiredError,
  HilAuthenticationError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  NodeNotOwnedError,
} from '../hil/hil.errors';

/** The error the call rejects with; a call that succeeds fails the test. */
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => Promise.reject(new Error('expected the call to fail')),
    (e: Error & { status: number }) => e,
  );

const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
    bob: { password: 'bobpass', projects: ['proj2'] },
    carol: { password: 'carolpass', projects: ['bmi_infra'] },
    dave: { password: 'davepass', projects: ['proj1', 'proj2'] },
  },
  projects: ['bmi_infra', 'proj1', 'proj2'],
  nodes: {
    'node-01': { project: 'proj1', nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:56' }] },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
  },
};

/** SEED when HIL has no project bmi_infra (so carol, its member there, is in no project). */
const withoutAdminProject = (): HilSeed => ({
  ...SEED,
  users: { ...SEED.users, carol: { password: 'carolpass', projects: [] } },
  projects: ['proj1', 'proj2'],
});

const creds = {
  admin: { username: 'admin', password: 'admin' },
  alice: { username: 'alice', password: 'alicepass' },
  bob: { username: 'bob', password: 'bobpass' },
  carol: { username: 'carol', password: 'carolpass' },
  dave: { username: 'dave', password: 'davepass' },
  wrong: { username: 'alice', password: 'nope' },
};
type Who = keyof typeof creds;
const caller = (who: Who, project: string) => ({ credentials: creds[who], project });

/** BMI's project table: every name but `unknown_to_bmi` (HIL's own projects are the seed's). */
const projects = {
  require: (name: string) =>
    name === 'unknown_to_bmi' ? Promise.reject(new ProjectNotFoundError(name)) : Promise.resolve({ id: 7, name }),
} as unknown as ProjectsService;

function settings(adminProject = 'bmi_infra') {
  return loadConfig({
    env: {},
    text: `[bmi]\nuid = 5\nadmin_project = ${adminProject}\n[db]\npath = :memory:\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = fake\n[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = /tmp/p\nipxe_path = /tmp/i\n`,
  });
}

function access(seed: HilSeed = SEED, adminProject = 'bmi_infra'): ProjectAccess {
  return new ProjectAccess(new FakeHilClient(seed), projects, settings(adminProject));
}

let svc: ProjectAccess;
beforeEach(() => (svc = access()));

const level =
  (l: AccessLevel) =>
  (c: ReturnType<typeof caller>, s: ProjectAccess = svc): Promise<void> =>
    s.resolve(c, l).then(() => undefined);
const member = level('member');
const admin = level('admin');
const ownedNode = async (c: ReturnType<typeof caller>, node: string) =>
  (await svc.resolve(c, 'member')).ownedNode(node);

describe('ProjectAccess.resolve', () => {
  it('gives the scope of the BMI project, with the caller and the level', async () => {
    const scope = await svc.resolve(caller('alice', 'proj1'), 'member');
    expect(scope.project).toEqual({ id: 7, name: 'proj1' });
    expect(scope.caller).toEqual(caller('alice', 'proj1'));
    expect(scope.level).toBe('member');
  });

  it.each<AccessLevel>(['member', 'admin', 'authenticated'])(
    'at level %s, the credentials are checked before the project is looked up: 401 for bad ones, known project or not',
    async (l) => {
      const hil = new FakeHilClient(SEED);
      const lookup = jest.spyOn(projects, 'require');
      const s = new ProjectAccess(hil, projects, settings());
      for (const project of ['unknown_to_bmi', 'proj1']) {
        lookup.mockClear();
        const err = await rejection(s.resolve(caller('wrong', project), l));
        expect([project, err.status]).toEqual([project, 401]);
        expect(lookup).not.toHaveBeenCalled();
      }
      // good credentials: an unknown project is 404, without asking HIL about it
      const listProjectNodes = jest.spyOn(hil, 'listProjectNodes');
      const err = await rejection(s.resolve(caller('admin', 'unknown_to_bmi'), l));
      expect(err).toBeInstanceOf(ProjectNotFoundError);
      expect(listProjectNodes).not.toHaveBeenCalled();
      lookup.mockRestore();
    },
  );

  it('throttles refused logins per user and address, and per address: 429 with a wait, before HIL is asked', async () => {
    const hil = new FakeHilClient(SEED);
    const isAdmin = jest.spyOn(hil, 'isAdmin');
    const config = settings();
    Object.assign(config.auth, {
      maxFailuresPerUserAndAddress: 3,
      maxFailuresPerAddress: 6,
      maxFailuresPerUser: 10,
      blockSeconds: 120,
    });
    const s = new ProjectAccess(hil, projects, config);
    const guess = (username: string, address: string) => ({
      credentials: { username, password: 'guess' },
      project: 'proj1',
      address,
    });
    // three refusals of alice from one address: the next attempt is refused unchecked
    for (let i = 0; i < 3; i++)
      expect((await rejection(s.resolve(guess('alice', '10.0.0.1'), 'member'))).status).toBe(401);
    const calls = isAdmin.mock.calls.length;
    const err = (await rejection(
      s.resolve({ ...caller('alice', 'proj1'), address: '10.0.0.1' }, 'member'),
    )) as TooManyFailedLoginsError;
    expect(err).toBeInstanceOf(TooManyFailedLoginsError);
    expect([err.status, err.code]).toEqual([429, 'TOO_MANY_FAILED_LOGINS']);
    expect(err.retryAfterSeconds).toBeGreaterThan(100);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(120);
    expect(isAdmin.mock.calls.length).toBe(calls); // the password was not even checked
    // alice herself, from her own address, is not locked out by the guessing
    await expect(s.resolve({ ...caller('alice', 'proj1'), address: '10.0.0.2' }, 'member')).resolves.toBeDefined();
    // one address guessing many names is blocked after its own limit, for every user
    for (const who of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
      expect((await rejection(s.resolve(guess(who, '10.9.9.9'), 'member'))).status).toBe(401);
    }
    expect((await rejection(s.resolve({ ...caller('dave', 'proj2'), address: '10.9.9.9' }, 'member'))).status).toBe(
      429,
    );
    // one name guessed from many addresses is blocked after its own limit, from everywhere
    for (let i = 1; i <= 10; i++) {
      expect((await rejection(s.resolve(guess('bob', `10.1.0.${i}`), 'member'))).status).toBe(401);
    }
    expect((await rejection(s.resolve({ ...caller('bob', 'proj2'), address: '10.2.0.1' }, 'member'))).status).toBe(429);
  });

  it('a burst of parallel guesses gets no more password checks than the limit', async () => {
    const hil = new FakeHilClient(SEED);
    const isAdmin = jest.spyOn(hil, 'isAdmin');
    const config = settings();
    Object.assign(config.auth, { maxFailuresPerUserAndAddress: 5 });
    const s = new ProjectAccess(hil, projects, config);
    const burst = Array.from({ length: 40 }, (_, i) =>
      rejection(
        s.resolve(
          { credentials: { username: 'alice', password: `g${i}` }, project: 'proj1', address: '10.3.0.1' },
          'member',
        ),
      ),
    );
    const statuses = (await Promise.all(burst)).map((e) => e.status);
    expect(statuses.filter((x) => x === 401)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(35);
    expect(isAdmin).toHaveBeenCalledTimes(5);
  });

  it('authenticated: any user whose password HIL accepts, member of the project or not', async () => {
    await expect(svc.resolve(caller('bob', 'proj1'), 'authenticated')).resolves.toMatchObject({
      level: 'authenticated',
    });
    const err = await rejection(svc.resolve(caller('wrong', 'proj1'), 'authenticated'));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
  });
});

describe("ProjectAccess.resolve(…, 'member')", () => {
  it.each<[Who, string]>([
    ['alice', 'proj1'],
    ['bob', 'proj2'],
    ['dave', 'proj2'],
    ['admin', 'proj1'],
    ['admin', 'proj2'],
  ])('%s may act on %s', async (who, project) => {
    await expect(member(caller(who, project))).resolves.toBeUndefined();
  });

  it.each<[Who, string]>([
    ['bob', 'proj1'],
    ['alice', 'proj2'],
    ['carol', 'proj1'],
  ])('%s may not act on %s (401)', async (who, project) => {
    const err = await rejection(member(caller(who, project)));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
  });

  it('a wrong password is 401 even for a project the user is in', async () => {
    await expect(member(caller('wrong', 'proj1'))).rejects.toThrow(HilAuthenticationError);
  });

  it('a BMI project HIL does not know is open to HIL admins only', async () => {
    const noInfra = withoutAdminProject();
    const s = access(noInfra);
    await expect(member(caller('admin', 'bmi_infra'), s)).resolves.toBeUndefined();
    const err = await rejection(member(caller('alice', 'bmi_infra'), s));
    expect(err).toBeInstanceOf(HilProjectNotFoundError);
    expect(err.status).toBe(404);
  });

  it('with a wrong password, a project HIL does not know is still 401, not 404', async () => {
    await expect(member(caller('wrong', 'nope'))).rejects.toThrow(HilAuthenticationError);
  });
});

describe("ProjectAccess.resolve(…, 'admin')", () => {
  it('a HIL admin is a BMI admin', async () => {
    await expect(admin(caller('admin', 'proj1'))).resolves.toBeUndefined();
  });

  it('a member of the admin project is a BMI admin, whatever project he acts for', async () => {
    await expect(admin(caller('carol', 'proj1'))).resolves.toBeUndefined();
  });

  it('the admin project is the configured one', async () => {
    const s = access(SEED, 'proj2');
    await expect(admin(caller('bob', 'proj2'), s)).resolves.toBeUndefined();
    await expect(admin(caller('carol', 'proj2'), s)).rejects.toThrow(AdminRequiredError);
  });

  it.each<Who>(['alice', 'bob', 'dave'])('%s is refused with 403 "User Does Not Have Admin Role"', async (who) => {
    const err = await rejection(admin(caller(who, 'proj1')));
    expect(err).toBeInstanceOf(AdminRequiredError);
    expect(err.status).toBe(403);
    expect(err.message).toBe('User Does Not Have Admin Role');
  });

  it('when HIL does not know the admin project, only HIL admins are admins', async () => {
    const s = access(withoutAdminProject());
    await expect(admin(caller('admin', 'proj1'), s)).resolves.toBeUndefined();
    await expect(admin(caller('carol', 'proj1'), s)).rejects.toThrow(AdminRequiredError);
  });

  it('a wrong password is 401, not 403', async () => {
    const err = await rejection(admin(caller('wrong', 'proj1')));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
  });
});

describe('ProjectScope.ownedNode', () => {
  it('returns the node when it belongs to the caller’s project', async () => {
    expect(await ownedNode(caller('alice', 'proj1'), 'node-01')).toEqual({
      name: 'node-01',
      project: 'proj1',
      nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:56' }],
    });
  });

  it('refuses a free node with NodeNotOwnedError (403), although HIL shows it to anyone', async () => {
    const err = await rejection(ownedNode(caller('alice', 'proj1'), 'node-02'));
    expect(err).toBeInstanceOf(NodeNotOwnedError);
    expect(err.status).toBe(403);
    expect(err.message).toBe('Node node-02 is free: it must belong to project proj1');
  });

  it('refuses a node the caller can see but that belongs to another project (403)', async () => {
    const err = await rejection(ownedNode(caller('dave', 'proj2'), 'node-01'));
    expect(err).toBeInstanceOf(NodeNotOwnedError);
    expect(err.status).toBe(403);
    expect(err.message).toBe('Node node-01 does not belong to project proj2');
  });

  it('refuses an admin acting for another project than the node’s (403)', async () => {
    await expect(ownedNode(caller('admin', 'proj2'), 'node-01')).rejects.toThrow(NodeNotOwnedError);
  });

  it('a node of a project the caller is not in is HIL’s 401', async () => {
    await expect(ownedNode(caller('bob', 'proj2'), 'node-01')).rejects.toThrow(HilAuthenticationError);
  });

  it('an unknown node is 404', async () => {
    await expect(ownedNode(caller('alice', 'proj1'), 'nope')).rejects.toThrow(HilNodeNotFoundError);
  });
});
