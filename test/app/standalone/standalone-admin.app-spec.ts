import { Logger } from '@nestjs/common';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import { DataSource } from 'typeorm';
import { call, expectText } from '../../utils/e2e';
import { startTestApp, TestApp } from '../../utils/test-app';
import { rejection } from '../../utils/faults';
import { Standalone1764200000000 } from '../../../src/database/migrations/1764200000000-standalone';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { HilNodeNotFoundError, NicNotFoundError } from '../../../src/modules/hil/hil.errors';
import { verifyPassword } from '../../../src/modules/standalone/password-hash';
import { StandaloneAdminService } from '../../../src/modules/standalone/standalone-admin.service';
import { StandaloneDirectory } from '../../../src/modules/standalone/standalone-directory';
import { StandaloneUserEntity } from '../../../src/modules/standalone/standalone-user.entity';
import {
  LastAdminError,
  MacInUseError,
  MembershipExistsError,
  MembershipNotFoundError,
  NicExistsError,
  NodeExistsError,
  NodeOwnershipConflictError,
  StandaloneBootstrapError,
  UserExistsError,
  UserNotFoundError,
} from '../../../src/modules/standalone/standalone.errors';
import { FK_VIOLATION, tableNames, UNIQUE_VIOLATION } from '../../utils/test-db';

/** StandaloneAdminService and the standalone tables on the real DB (SQLite :memory: or PostgreSQL, real migrations). */

const STANDALONE = { BMI_DRIVER_NET_ISOLATOR: 'standalone', BMI_NET_ISOLATOR_CACHE_SECONDS: '0' };
const ROOT = { username: 'admin', password: 'secret' };
let root: ProjectScope;

let logs: string[];
let t: TestApp;
let svc: StandaloneAdminService;

function captureLogs(): void {
  logs = [];
  for (const level of ['log', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map(String).join(' '));
    });
  }
}

beforeEach(async () => {
  captureLogs();
  t = await startTestApp({ env: { ...STANDALONE, BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'secret' } });
  svc = t.app.get(StandaloneAdminService);
  const projects = t.app.get(ProjectsService);
  await projects.add('proj1');
  await projects.add('proj2');
  root = await t.scope(ROOT, 'bmi_infra', 'admin');
});
afterEach(async () => {
  await t.close();
  jest.restoreAllMocks();
});

const users = () =>
  t.app
    .get(DataSource)
    .getRepository(StandaloneUserEntity)
    .find({ order: { id: 'ASC' } });

describe('first start in standalone mode', () => {
  it('creates [net_isolator] admin_user as an admin, with a scrypt hash of admin_password', async () => {
    const rows = await users();
    expect(rows).toEqual([{ id: 1, name: 'admin', passwordHash: expect.stringMatching(/^\$scrypt\$/), isAdmin: true }]);
    expect(await verifyPassword('secret', rows[0].passwordHash)).toBe(true);
    expect(logs).toContain('standalone mode: created the first admin user admin');
    expect(logs.join('\n')).not.toContain('secret');
  });

  it('does nothing once there is a user, whatever admin_password says', async () => {
    await svc.onApplicationBootstrap();
    expect(await users()).toHaveLength(1);
    expect(logs).toContain('[net_isolator] admin_password is only used at the first start (when there is no user)');
  });

  it('honours [net_isolator] admin_user', async () => {
    const other = await startTestApp({
      env: { ...STANDALONE, BMI_NET_ISOLATOR_ADMIN_USER: 'root', BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'pw' },
    });
    try {
      // the first admin signs in with the configured name and password
      await expect(other.scope({ username: 'root', password: 'pw' }, 'bmi_infra', 'admin')).resolves.toBeDefined();
      const all = await other.app.get(StandaloneAdminService).listUsers();
      expect(all).toEqual([{ name: 'root', isAdmin: true, projects: [] }]);
    } finally {
      await other.close();
    }
  });

  it('fails the start when admin_password is empty, naming the setting and its variable', async () => {
    const err = await rejection(startTestApp({ env: STANDALONE }));
    expect(err).toBeInstanceOf(StandaloneBootstrapError);
    expect(err.message).toContain('[net_isolator] admin_password');
    expect(err.message).toContain('BMI_NET_ISOLATOR_ADMIN_PASSWORD');
  });

  it('fails the start when admin_user is not a valid name', async () => {
    const err = await rejection(
      startTestApp({
        env: { ...STANDALONE, BMI_NET_ISOLATOR_ADMIN_USER: 'a:b', BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'x' },
      }),
    );
    expect(err).toBeInstanceOf(StandaloneBootstrapError);
    expect(err.message).toContain('[net_isolator] admin_user "a:b" is not a valid user name');
  });
});

describe('other modes', () => {
  it('create no user, and every route answers 409 "standalone mode is off" once its body is valid', async () => {
    const fake = await startTestApp({ env: { BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'secret' } });
    try {
      expect(await fake.app.get(DataSource).getRepository(StandaloneUserEntity).count()).toBe(0);
      const admin = { username: 'admin', password: 'admin' };
      const off = /^standalone mode is off \(\[driver\] net_isolator = fake\)/;
      for (const [method, route, body] of [
        ['post', '/list_users', {}],
        ['put', '/create_user', { user: 'x', password: 'y' }],
        ['put', '/change_password', { user: 'admin', new_password: 'y' }],
        ['post', '/list_nodes', {}],
        ['delete', '/detach_node', { node: 'node-01' }],
      ] as const) {
        const r = await call(fake, method, route, admin, { project: 'bmi_infra', ...body });
        expect({ route, status: r.status, off: off.test(r.text) }).toEqual({ route, status: 409, off: true });
      }
      const invalid = await call(fake, 'put', '/create_user', admin, { project: 'bmi_infra', user: 'x' });
      expect(invalid.status).toBe(400);
    } finally {
      await fake.close();
    }
  });
});

describe('users', () => {
  it('create, list (no hash in the rows), delete', async () => {
    expect(await svc.createUser(root, 'alice', 'alicepw', false)).toEqual({
      name: 'alice',
      isAdmin: false,
      projects: [],
    });
    await svc.addUserToProject(root, 'alice', 'proj2');
    await svc.addUserToProject(root, 'alice', 'proj1');
    expect(await svc.listUsers()).toEqual([
      { name: 'admin', isAdmin: true, projects: [] },
      { name: 'alice', isAdmin: false, projects: ['proj1', 'proj2'] },
    ]);
    await svc.deleteUser(root, 'alice');
    expect((await svc.listUsers()).map((u) => u.name)).toEqual(['admin']);
    expect(await t.app.get(DataSource).query(`SELECT * FROM standalone_user_project`)).toEqual([]);
    expect(logs.join('\n')).not.toContain('alicepw');
  });

  it('refuses a taken name (409), an unknown user (404), and deleting the last admin (409)', async () => {
    await svc.createUser(root, 'alice', 'pw', false);
    await expect(svc.createUser(root, 'alice', 'pw', true)).rejects.toThrow(UserExistsError);
    await expect(svc.deleteUser(root, 'nobody')).rejects.toThrow(UserNotFoundError);
    const err = await rejection(svc.deleteUser(root, 'admin'));
    expect(err).toBeInstanceOf(LastAdminError);
    expect(err.message).toBe('User admin is the last admin user and cannot be deleted');
    await svc.createUser(root, 'admin2', 'pw2', true);
    const admin2 = await t.scope({ username: 'admin2', password: 'pw2' }, 'bmi_infra', 'admin');
    await svc.deleteUser(admin2, 'admin');
    expect((await svc.listUsers()).length).toBe(2);
  });

  it('memberships: 409 when already a member, 404 when not, 404 for an unknown project or user', async () => {
    await svc.createUser(root, 'alice', 'pw', false);
    await svc.addUserToProject(root, 'alice', 'proj1');
    await expect(svc.addUserToProject(root, 'alice', 'proj1')).rejects.toThrow(MembershipExistsError);
    await expect(svc.removeUserFromProject(root, 'alice', 'proj2')).rejects.toThrow(MembershipNotFoundError);
    await expect(svc.addUserToProject(root, 'alice', 'nope')).rejects.toMatchObject({
      status: 404,
      message: 'nope not found',
    });
    await expect(svc.addUserToProject(root, 'bob', 'proj1')).rejects.toThrow(UserNotFoundError);
    await svc.removeUserFromProject(root, 'alice', 'proj1');
    expect((await svc.listUsers())[1].projects).toEqual([]);
  });

  it('a password change: by the user (authenticating with the old one) or by an admin; never by others', async () => {
    await svc.createUser(root, 'alice', 'old', false);
    await svc.createUser(root, 'bob', 'bobpw', false);
    const change = (who: { username: string; password: string }, user: string, password: string) =>
      call(t, 'put', '/change_password', who, { project: 'bmi_infra', user, new_password: password });
    await expectText(change({ username: 'alice', password: 'old' }, 'alice', 'new'), 200, 'Success');
    const hash = async (name: string) => (await users()).find((u) => u.name === name)!.passwordHash;
    expect(await verifyPassword('new', await hash('alice'))).toBe(true);
    expect((await change({ username: 'alice', password: 'old' }, 'alice', 'again')).status).toBe(401);
    await expectText(
      change({ username: 'bob', password: 'bobpw' }, 'alice', 'mine'),
      403,
      'User Does Not Have Admin Role',
    );
    await expectText(change(ROOT, 'alice', 'reset'), 200, 'Success');
    expect(await verifyPassword('reset', await hash('alice'))).toBe(true);
    expect((await change(ROOT, 'nobody', 'x')).status).toBe(404);
    expect(logs.join('\n')).not.toMatch(/old|again|mine|reset|bobpw/);
  });

  it('every route needs a BMI admin (403) and the caller’s project to exist (404)', async () => {
    await svc.createUser(root, 'alice', 'pw', false);
    const alice = { username: 'alice', password: 'pw' };
    await expectText(
      call(t, 'post', '/list_users', alice, { project: 'bmi_infra' }),
      403,
      'User Does Not Have Admin Role',
    );
    await expectText(
      call(t, 'put', '/register_node', alice, { project: 'bmi_infra', node: 'n' }),
      403,
      'User Does Not Have Admin Role',
    );
    expect((await call(t, 'post', '/list_users', ROOT, { project: 'nope' })).status).toBe(404);
  });
});

describe('nodes and NICs', () => {
  it('register, add NICs (MAC lower-cased, registration order kept), connect, detach, delete', async () => {
    expect(await svc.registerNode(root, 'node-01')).toEqual({ name: 'node-01', project: null, nics: [] });
    await svc.addNic(root, 'node-01', 'eth1', '52:54:00:AB:CD:EF');
    await svc.addNic(root, 'node-01', 'eth0', '52:54:00:12:34:56');
    await svc.connectNode(root, 'node-01', 'proj1');
    expect(await svc.listNodes()).toEqual([
      {
        name: 'node-01',
        project: 'proj1',
        nics: [
          { label: 'eth1', macaddr: '52:54:00:ab:cd:ef' },
          { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        ],
      },
    ]);
    expect(await t.app.get(StandaloneDirectory).findNode('node-01')).toEqual({
      ...(await svc.listNodes())[0],
      bmc: null,
    });
    expect(await t.app.get(StandaloneDirectory).listNodes('proj1')).toEqual(['node-01']);
    await svc.detachNode(root, 'node-01');
    expect(await t.app.get(StandaloneDirectory).listNodes(null)).toEqual(['node-01']);
    await svc.removeNic(root, 'node-01', 'eth1');
    await svc.deleteNode(root, 'node-01');
    expect(await svc.listNodes()).toEqual([]);
    expect(await t.app.get(DataSource).query(`SELECT * FROM standalone_nic`)).toEqual([]);
  });

  it('refuses: a taken node name, a taken label, a taken MAC (any case), unknown node or NIC', async () => {
    await svc.registerNode(root, 'n1');
    await svc.registerNode(root, 'n2');
    await svc.addNic(root, 'n1', 'eth0', 'aa:bb:cc:dd:ee:ff');
    await expect(svc.registerNode(root, 'n1')).rejects.toThrow(NodeExistsError);
    await expect(svc.addNic(root, 'n1', 'eth0', '00:00:00:00:00:01')).rejects.toThrow(NicExistsError);
    const err = await rejection(svc.addNic(root, 'n2', 'eth0', 'AA:BB:CC:DD:EE:FF'));
    expect(err).toBeInstanceOf(MacInUseError);
    expect(err.message).toBe('MAC aa:bb:cc:dd:ee:ff is already registered, as nic eth0 of node n1');
    await expect(svc.addNic(root, 'nope', 'eth0', '00:00:00:00:00:02')).rejects.toThrow(HilNodeNotFoundError);
    await expect(svc.removeNic(root, 'n1', 'eth9')).rejects.toThrow(NicNotFoundError);
    await expect(svc.deleteNode(root, 'nope')).rejects.toThrow(HilNodeNotFoundError);
  });

  it('ownership: a node connected anywhere cannot be connected again nor deleted; a free one not detached', async () => {
    await svc.registerNode(root, 'n1');
    await svc.connectNode(root, 'n1', 'proj1');
    const other = await rejection(svc.connectNode(root, 'n1', 'proj2'));
    expect(other).toBeInstanceOf(NodeOwnershipConflictError);
    expect(other.message).toBe('Node n1 is connected to project proj1; detach it first');
    await expect(svc.connectNode(root, 'n1', 'proj1')).rejects.toThrow('Node n1 is already connected to project proj1');
    await expect(svc.deleteNode(root, 'n1')).rejects.toThrow('Node n1 is connected to project proj1; detach it first');
    await expect(svc.connectNode(root, 'n1', 'nope')).rejects.toMatchObject({ status: 404 });
    await svc.detachNode(root, 'n1');
    await expect(svc.detachNode(root, 'n1')).rejects.toThrow('Node n1 is not connected to any project');
  });
});

describe('the standalone tables (migration 1764200000000-standalone)', () => {
  const q = (sql: string) => t.app.get(DataSource).query(sql);

  it('a deleted project takes its memberships with it and frees its nodes', async () => {
    await svc.createUser(root, 'alice', 'pw', false);
    await svc.addUserToProject(root, 'alice', 'proj2');
    await svc.registerNode(root, 'n1');
    await svc.connectNode(root, 'n1', 'proj2');
    await t.app.get(ProjectsService).delete('proj2');
    expect(await svc.listUsers()).toContainEqual({ name: 'alice', isAdmin: false, projects: [] });
    expect(await svc.listNodes()).toEqual([{ name: 'n1', project: null, nics: [] }]);
  });

  it('enforces foreign keys and unique constraints', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined); // TypeORM logs the failed queries
    await expect(q(`INSERT INTO standalone_user_project (user_id, project_id) VALUES (1, 99)`)).rejects.toThrow(
      FK_VIOLATION,
    );
    await expect(q(`INSERT INTO standalone_nic (node_id, label, macaddr) VALUES (99, 'e', 'm')`)).rejects.toThrow(
      FK_VIOLATION,
    );
    await expect(q(`INSERT INTO standalone_node (name, project_id) VALUES ('n', 99)`)).rejects.toThrow(FK_VIOLATION);
    await expect(
      q(`INSERT INTO standalone_user (name, password_hash, is_admin) VALUES ('admin', 'x', FALSE)`),
    ).rejects.toThrow(UNIQUE_VIOLATION);
    await q(`INSERT INTO standalone_node (name) VALUES ('n')`);
    await expect(q(`INSERT INTO standalone_node (name) VALUES ('n')`)).rejects.toThrow(UNIQUE_VIOLATION);
    await q(
      `INSERT INTO standalone_nic (node_id, label, macaddr) SELECT id, 'e', 'm1' FROM standalone_node WHERE name = 'n'`,
    );
    await expect(
      q(
        `INSERT INTO standalone_nic (node_id, label, macaddr) SELECT id, 'e', 'm2' FROM standalone_node WHERE name = 'n'`,
      ),
    ).rejects.toThrow(UNIQUE_VIOLATION);
    await expect(
      q(
        `INSERT INTO standalone_nic (node_id, label, macaddr) SELECT id, 'f', 'm1' FROM standalone_node WHERE name = 'n'`,
      ),
    ).rejects.toThrow(UNIQUE_VIOLATION);
  });

  it('migration down drops the four tables, and up makes them again', async () => {
    const runner = t.app.get(DataSource).createQueryRunner();
    const tables = () => tableNames(t.app.get(DataSource), 'standalone');
    try {
      await new Standalone1764200000000().down(runner);
      expect(await tables()).toEqual([]);
      await new Standalone1764200000000().up(runner);
      expect(await tables()).toEqual([
        'standalone_nic',
        'standalone_node',
        'standalone_user',
        'standalone_user_project',
      ]);
    } finally {
      await runner.release();
    }
  });
});
