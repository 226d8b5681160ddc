/**
 * Standalone mode (`[driver] net_isolator = standalone`, issue 4 item 6): BMI keeps users, memberships, nodes
 * and NICs in its own database. The whole app runs in that mode; the admin bootstraps everything over the admin
 * routes (and the CLI), and every BMI route then applies the same authorisation rules as with HIL. No password
 * ever shows in a response or in a log line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { Response } from 'supertest';
import { runCli } from '../../src/cli/program';
import { rejection } from '../utils/faults';
import { startTestApp, TestApp } from '../utils/test-app';
import {
  ADMIN_PROJECT,
  Body,
  call,
  Encoding,
  expectedIpxe,
  expectedPxelinux,
  expectOk,
  expectText,
  HttpMethod,
  listFiles,
} from '../utils/e2e';
import { freePort, SERVER_MAIN, startServer, waitFor } from '../utils/server-process';

type User = { username: string; password: string };

const ROOT: User = { username: 'admin', password: 'Root-pw-9xQ' };
const ALICE: User = { username: 'alice', password: 'Alice:pw-4kD' };
const BOB: User = { username: 'bob', password: 'Bob-pw-2mZ' };
const CAROL: User = { username: 'carol', password: 'Carol-pw-7qR' };
const DAVE: User = { username: 'dave', password: 'Dave-pw-5zT' };
const PASSWORDS = () => [ROOT, ALICE, BOB, CAROL, DAVE].map((u) => u.password);
/** every password that was ever used in this file, changed ones and refused ones included */
const usedPasswords = new Set<string>(['Zed-pw-1', 'x-pw', 'stolen-pw']);

const STANDALONE_ENV = {
  BMI_DRIVER_NET_ISOLATOR: 'standalone',
  BMI_NET_ISOLATOR_ADMIN_PASSWORD: ROOT.password,
  // no cache setting: in standalone mode a revoked membership or a changed password counts from the next request
};

const NO_ACCESS = 'You do not have access to the required project.';
const ADMIN_ROLE = 'User Does Not Have Admin Role';
const P1 = 'proj1';
const P2 = 'proj2';

let t: TestApp;
let url: string;
/** every log line and every response body and header seen in this file */
const seen: string[] = [];

function spyOnLogs(): void {
  for (const level of ['log', 'warn', 'error', 'debug', 'verbose', 'fatal'] as const) {
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      seen.push(args.map(String).join(' '));
    });
  }
  for (const level of ['log', 'warn', 'error', 'info', 'debug'] as const) {
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      seen.push(args.map(String).join(' '));
    });
  }
}

/** A request to the app (see utils/e2e call()), whose answer is kept for the password check. */
async function req(
  method: HttpMethod,
  urlPath: string,
  user: User | null,
  body?: Body,
  enc: Encoding = 'form',
): Promise<Response> {
  if (user) usedPasswords.add(user.password);
  const r = await call(t, method, urlPath, user, body, enc);
  seen.push(r.text, JSON.stringify(r.headers));
  return r;
}

const asAdmin = (method: HttpMethod, p: string, body: Body = {}) =>
  expectOk(req(method, p, ROOT, { project: ADMIN_PROJECT, ...body }));

interface Snapshot {
  users: unknown;
  nodes: unknown;
  images: unknown;
  targets: unknown;
  files: unknown;
}

/** Users, nodes, image rows, iSCSI targets and boot files: what a refused request must leave alone. */
async function snapshot(): Promise<Snapshot> {
  const j = async (p: string) => JSON.parse((await asAdmin('post', p)).text) as unknown;
  return {
    users: await j('/list_users/'),
    nodes: await j('/list_nodes/'),
    images: await j('/list_all_images/'),
    targets: (await t.iscsi.listTargets()).map((x) => x.name),
    files: await listFiles(t.tftpRoot),
  };
}

beforeAll(async () => {
  spyOnLogs();
  usedPasswords.add(ROOT.password);
  t = await startTestApp({ env: STANDALONE_ENV });
  await t.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
  jest.restoreAllMocks();
});

describe('the admin bootstraps a site over the admin routes', () => {
  it('the first admin exists from the first start on, and only it', async () => {
    const r = await asAdmin('post', '/list_users/');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.text)).toEqual([{ name: 'admin', isAdmin: true, projects: [] }]);
  });

  it('projects (BMI’s own), then users, with form and JSON bodies', async () => {
    await asAdmin('put', '/add_project/', { name: P1 });
    await asAdmin('put', '/add_project/', { name: P2 });
    const created = await asAdmin('put', '/create_user/', { user: 'alice', password: ALICE.password });
    expect(JSON.parse(created.text)).toEqual({ name: 'alice', isAdmin: false, projects: [] });
    await expectOk(
      req('put', '/create_user/', ROOT, { project: ADMIN_PROJECT, user: 'bob', password: BOB.password }, 'json'),
    );
    await asAdmin('put', '/create_user/', { user: 'carol', password: CAROL.password, is_admin: 'false' });
    await asAdmin('put', '/create_user/', { user: 'dave', password: DAVE.password });
    await expectText(
      req('put', '/add_user_project/', ROOT, { project: ADMIN_PROJECT, user: 'alice', target_project: P1 }),
      200,
      'Success',
    );
    await asAdmin('put', '/add_user_project/', { user: 'bob', target_project: P2 });
    // carol is in the admin project: a BMI admin, as a member of bmi_infra in HIL would be
    await asAdmin('put', '/add_user_project/', { user: 'carol', target_project: ADMIN_PROJECT });
    expect(JSON.parse((await asAdmin('post', '/list_users/')).text)).toEqual([
      { name: 'admin', isAdmin: true, projects: [] },
      { name: 'alice', isAdmin: false, projects: [P1] },
      { name: 'bob', isAdmin: false, projects: [P2] },
      { name: 'carol', isAdmin: false, projects: [ADMIN_PROJECT] },
      { name: 'dave', isAdmin: false, projects: [] },
    ]);
  });

  it('nodes with NICs (MACs any case, kept lower-cased, in registration order), connected to projects', async () => {
    const reg = await asAdmin('put', '/register_node/', { node: 'node-01' });
    expect(JSON.parse(reg.text)).toEqual({ name: 'node-01', project: null, nics: [] });
    await asAdmin('put', '/register_node/', { node: 'node-02' });
    await asAdmin('put', '/register_node/', { node: 'node-03' });
    await expectText(
      req('put', '/add_nic/', ROOT, {
        project: ADMIN_PROJECT,
        node: 'node-01',
        nic: 'eth0',
        macaddr: '52:54:00:12:34:56',
      }),
      200,
      'Success',
    );
    await asAdmin('put', '/add_nic/', { node: 'node-01', nic: 'eth1', macaddr: '52:54:00:aB:cD:Ef' });
    await asAdmin('put', '/add_nic/', { node: 'node-02', nic: 'eth0', macaddr: '52:54:00:AA:BB:CC' });
    await asAdmin('put', '/add_nic/', { node: 'node-03', nic: 'eth0', macaddr: '52:54:00:00:00:03' });
    await asAdmin('put', '/connect_node/', { node: 'node-01', target_project: P1 });
    await asAdmin('put', '/connect_node/', { node: 'node-03', target_project: P2 });
    expect(JSON.parse((await asAdmin('post', '/list_nodes/')).text)).toEqual([
      {
        name: 'node-01',
        project: P1,
        nics: [
          { label: 'eth0', macaddr: '52:54:00:12:34:56' },
          { label: 'eth1', macaddr: '52:54:00:ab:cd:ef' },
        ],
      },
      { name: 'node-02', project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:aa:bb:cc' }] },
      { name: 'node-03', project: P2, nics: [{ label: 'eth0', macaddr: '52:54:00:00:00:03' }] },
    ]);
  });

  it('golden images, imported by the admin', async () => {
    await expectText(req('put', '/import_image/', ROOT, { project: P1, img: 'bmi_test' }), 200, 'Success');
    await expectText(req('put', '/import_image/', ROOT, { project: P2, img: 'centos7' }), 200, 'Success');
  });

  it('conflicts are 409 with a clear message, and change nothing', async () => {
    const before = await snapshot();
    const conflicts: [HttpMethod, string, Body, string][] = [
      ['put', '/create_user/', { user: 'alice', password: 'x' }, 'User alice already exists'],
      [
        'put',
        '/add_user_project/',
        { user: 'alice', target_project: P1 },
        'User alice is already a member of project proj1',
      ],
      ['put', '/register_node/', { node: 'node-01' }, 'Node node-01 already exists'],
      [
        'put',
        '/add_nic/',
        { node: 'node-01', nic: 'eth0', macaddr: '00:00:00:00:00:09' },
        'Nic eth0 already exists on node node-01',
      ],
      [
        'put',
        '/add_nic/',
        { node: 'node-02', nic: 'eth1', macaddr: '52:54:00:AB:CD:EF' },
        'MAC 52:54:00:ab:cd:ef is already registered, as nic eth1 of node node-01',
      ],
      [
        'put',
        '/connect_node/',
        { node: 'node-01', target_project: P2 },
        'Node node-01 is connected to project proj1; detach it first',
      ],
      [
        'put',
        '/connect_node/',
        { node: 'node-01', target_project: P1 },
        'Node node-01 is already connected to project proj1',
      ],
      ['delete', '/delete_node/', { node: 'node-01' }, 'Node node-01 is connected to project proj1; detach it first'],
      ['delete', '/detach_node/', { node: 'node-02' }, 'Node node-02 is not connected to any project'],
      ['delete', '/delete_user/', { user: 'admin' }, 'User admin is the last admin user and cannot be deleted'],
    ];
    for (const [method, p, body, text] of conflicts) {
      await expectText(req(method, p, ROOT, { project: ADMIN_PROJECT, ...body }), 409, text);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('unknown things are 404, and change nothing', async () => {
    const before = await snapshot();
    const missing: [HttpMethod, string, Body, string][] = [
      ['delete', '/delete_user/', { user: 'nobody' }, 'user nobody not found'],
      ['put', '/add_user_project/', { user: 'nobody', target_project: P1 }, 'user nobody not found'],
      ['put', '/add_user_project/', { user: 'alice', target_project: 'nope' }, 'nope not found'],
      [
        'delete',
        '/remove_user_project/',
        { user: 'alice', target_project: P2 },
        'User alice is not a member of project proj2',
      ],
      ['put', '/change_password/', { user: 'nobody', new_password: 'x' }, 'user nobody not found'],
      ['delete', '/delete_node/', { node: 'nope' }, 'node nope not found'],
      ['put', '/add_nic/', { node: 'nope', nic: 'eth0', macaddr: '00:00:00:00:00:09' }, 'node nope not found'],
      ['delete', '/remove_nic/', { node: 'node-01', nic: 'eth7' }, 'Nic eth7 does not exist on node node-01'],
      ['put', '/connect_node/', { node: 'node-02', target_project: 'nope' }, 'nope not found'],
      ['delete', '/detach_node/', { node: 'nope' }, 'node nope not found'],
    ];
    for (const [method, p, body, text] of missing) {
      await expectText(req(method, p, ROOT, { project: ADMIN_PROJECT, ...body }), 404, text);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('the same authorisation rules as with HIL, on every BMI route', () => {
  let before: Snapshot;
  beforeEach(async () => {
    before = await snapshot();
  });

  it('a member works in its project: a disk, then provision; the pxelinux file uses the lower-cased MAC', async () => {
    const r = await expectOk(req('put', '/create_disk', ALICE, { project: P1, disk_name: 'd1', img: 'bmi_test' }));
    const target = JSON.parse(r.text) as string;
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth1' }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toEqual([
      { path: 'node-01.ipxe', mode: expect.any(Number), content: expectedIpxe(target) },
      {
        path: 'pxelinux.cfg/01-52-54-00-ab-cd-ef',
        mode: expect.any(Number),
        content: expectedPxelinux('d1', 'node-01'),
      },
    ]);
    await expectText(
      req('delete', '/deprovision/', ALICE, { project: P1, node: 'node-01', nic: 'eth1' }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toEqual([]);
  });

  const PROJ1_OPS: [string, HttpMethod, string, Body][] = [
    ['list_images', 'post', '/list_images/', { project: P1 }],
    ['create_disk', 'put', '/create_disk', { project: P1, disk_name: 'intruder', img: 'bmi_test' }],
    ['delete_disk', 'delete', '/delete_disk', { project: P1, disk_name: 'd1' }],
    ['provision', 'put', '/provision/', { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth0' }],
    ['deprovision', 'delete', '/deprovision/', { project: P1, node: 'node-01', nic: 'eth0' }],
    ['create_snapshot', 'put', '/create_snapshot/', { project: P1, disk_name: 'd1', snap_name: 's1' }],
    ['list_snapshots', 'post', '/list_snapshots/', { project: P1 }],
    ['remove_image', 'delete', '/remove_image/', { project: P1, img: 'bmi_test' }],
    ['list_disks', 'post', '/list_disks/', { project: P1 }],
    ['copy_image', 'put', '/copy_image/', { project: P1, img: 'bmi_test', dest_project: P1, new_name: 'c' }],
    ['move_image', 'put', '/move_image/', { project: P1, img: 'd1', dest_project: P1, new_name: 'd9' }],
    ['node_ip', 'post', '/node_ip/', { project: P1, node: 'node-01' }],
  ];

  it.each(PROJ1_OPS)(
    '%s in proj1: 401 for bob (proj2) and dave (no project), nothing changes',
    async (_n, m, p, body) => {
      for (const who of [BOB, DAVE]) {
        await expectText(req(m, p, who, body), 401, NO_ACCESS);
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(PROJ1_OPS)(
    '%s in proj1: 401 "Authentication Failed" for a wrong password or an unknown user',
    async (_n, m, p, body) => {
      for (const who of [
        { username: 'alice', password: 'Wrong-pw-0w' },
        { username: 'mallory', password: ALICE.password },
      ]) {
        await expectText(req(m, p, who, body), 401, 'Authentication Failed');
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it('a free node is refused for provision and deprovision (403), even to its would-be project', async () => {
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-02', disk_name: 'd1', nic: 'eth0' }),
      403,
      'Node node-02 is free: it must belong to project proj1',
    );
    const dp = await req('delete', '/deprovision/', ALICE, { project: P1, node: 'node-02', nic: 'eth0' });
    expect(dp.status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it('a node of another project: hidden from a non-member (401), refused to an admin acting elsewhere (403)', async () => {
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-03', disk_name: 'd1', nic: 'eth0' }),
      401,
      NO_ACCESS,
    );
    await expectText(
      req('put', '/provision/', ROOT, { project: P1, node: 'node-03', disk_name: 'd1', nic: 'eth0' }),
      403,
      'Node node-03 does not belong to project proj1',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('an unknown node is 404, an unknown NIC 404', async () => {
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-99', disk_name: 'd1', nic: 'eth0' }),
      404,
      'node node-99 not found',
    );
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth9' }),
      404,
      'Nic eth9 does not exist on node node-01',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('an admin (the flag) may act in any project; admin rights through the admin project do not make a member', async () => {
    expect((await expectOk(req('post', '/list_images/', ROOT, { project: P2 }))).text).toBe('["centos7"]');
    await expectText(req('post', '/list_images/', CAROL, { project: P2 }), 401, NO_ACCESS);
  });
});

/** The admin routes, each with a body that an admin may run. */
const ADMIN_ROUTES: [string, HttpMethod, string, Body][] = [
  ['list_users', 'post', '/list_users/', {}],
  ['create_user', 'put', '/create_user/', { user: 'zed', password: 'Zed-pw-1' }],
  ['delete_user', 'delete', '/delete_user/', { user: 'dave' }],
  ['add_user_project', 'put', '/add_user_project/', { user: 'dave', target_project: P1 }],
  ['remove_user_project', 'delete', '/remove_user_project/', { user: 'bob', target_project: P2 }],
  ['change_password (of another user)', 'put', '/change_password/', { user: 'carol', new_password: 'x-pw' }],
  ['list_nodes', 'post', '/list_nodes/', {}],
  ['register_node', 'put', '/register_node/', { node: 'node-09' }],
  ['delete_node', 'delete', '/delete_node/', { node: 'node-02' }],
  ['add_nic', 'put', '/add_nic/', { node: 'node-02', nic: 'eth1', macaddr: '52:54:00:00:00:22' }],
  ['remove_nic', 'delete', '/remove_nic/', { node: 'node-02', nic: 'eth0' }],
  ['connect_node', 'put', '/connect_node/', { node: 'node-02', target_project: P1 }],
  ['detach_node', 'delete', '/detach_node/', { node: 'node-01' }],
];

describe('the admin routes', () => {
  let before: Snapshot;
  beforeEach(async () => {
    before = await snapshot();
  });

  it.each(ADMIN_ROUTES)(
    '%s: 403 for non-admins, even in their own project; nothing changes',
    async (_n, m, p, body) => {
      for (const [who, project] of [
        [ALICE, P1],
        [BOB, P2],
        [DAVE, ADMIN_PROJECT],
      ] as const) {
        await expectText(req(m, p, who, { project, ...body }), 403, ADMIN_ROLE);
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(ADMIN_ROUTES)('%s: 401 for a wrong password or an unknown user; nothing changes', async (_n, m, p, body) => {
    for (const who of [
      { username: 'admin', password: 'Wrong-pw-0w' },
      { username: 'nobody', password: ROOT.password },
    ]) {
      await expectText(req(m, p, who, { project: ADMIN_PROJECT, ...body }), 401, 'Authentication Failed');
    }
    expect(await snapshot()).toEqual(before);
  });

  it.each(ADMIN_ROUTES)(
    '%s: 400 without an Authorization header, 404 from an unknown project',
    async (_n, m, p, body) => {
      await expectText(req(m, p, null, { project: ADMIN_PROJECT, ...body }), 400, 'No Authentication Details Given');
      await expectText(req(m, p, ROOT, { project: 'nosuchproject', ...body }), 404, 'nosuchproject not found');
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(ADMIN_ROUTES)('%s: any other method is 405', async (_n, m, p) => {
    const other: HttpMethod = m === 'post' ? 'put' : 'post';
    const r = await req(other, p, ROOT, { project: ADMIN_PROJECT });
    expect({ status: r.status, allow: r.headers.allow }).toEqual({ status: 405, allow: m.toUpperCase() });
  });

  it('a BMI admin through the admin project (carol) may use them too', async () => {
    const r = await expectOk(req('post', '/list_nodes/', CAROL, { project: ADMIN_PROJECT }));
    expect((JSON.parse(r.text) as { name: string }[]).map((n) => n.name)).toEqual(['node-01', 'node-02', 'node-03']);
  });
});

describe('bad input: 400 with a message naming the field, nothing written', () => {
  const LONG = 'x'.repeat(65);
  const CASES: [string, string, Body, string, string[]][] = [
    ['create_user', '/create_user/', { user: 'u1', password: 'pw' }, 'user', ['', 'a b', '../x', '-x', 'a:b', LONG]],
    ['create_user', '/create_user/', { user: 'u1', password: 'pw' }, 'password', ['', 'x'.repeat(257)]],
    ['create_user', '/create_user/', { user: 'u1', password: 'pw', is_admin: 'true' }, 'is_admin', ['maybe']],
    ['change_password', '/change_password/', { user: 'bob', new_password: 'pw' }, 'new_password', ['']],
    ['add_user_project', '/add_user_project/', { user: 'dave', target_project: P1 }, 'target_project', ['a/b', '']],
    ['register_node', '/register_node/', { node: 'n1' }, 'node', ['', 'a b', 'n;rm', '.hidden', LONG]],
    ['connect_node', '/connect_node/', { node: 'node-02', target_project: P1 }, 'node', ['x y']],
    ['add_nic', '/add_nic/', { node: 'node-02', nic: 'eth1', macaddr: '52:54:00:00:00:22' }, 'nic', ['', 'a b', LONG]],
    [
      'add_nic',
      '/add_nic/',
      { node: 'node-02', nic: 'eth1', macaddr: '52:54:00:00:00:22' },
      'macaddr',
      ['', '52:54:00:00:00', '52-54-00-00-00-22', '52:54:00:00:00:2G', '52:54:00:00:00:22:33', 'zz:zz:zz:zz:zz:zz'],
    ],
    ['remove_nic', '/remove_nic/', { node: 'node-02', nic: 'eth0' }, 'nic', ['e/0']],
  ];
  const METHOD: Record<string, HttpMethod> = {
    create_user: 'put',
    change_password: 'put',
    add_user_project: 'put',
    register_node: 'put',
    connect_node: 'put',
    add_nic: 'put',
    remove_nic: 'delete',
  };

  it.each(CASES.map(([r, p, b, f, v]) => [r, f, p, b, v] as const))(
    '%s, field %s',
    async (route, field, p, base, values) => {
      const before = await snapshot();
      const fieldWord = new RegExp(`(^|[^A-Za-z0-9_])${field}([^A-Za-z0-9_]|$)`);
      for (const enc of ['form', 'json'] as Encoding[]) {
        for (const value of [undefined, ...values]) {
          const body: Body = { project: ADMIN_PROJECT, ...base, [field]: value };
          if (value === undefined && field === 'is_admin') continue; // optional
          const r = await req(METHOD[route], p, ROOT, body, enc);
          expect({ enc, value, status: r.status, names: fieldWord.test(r.text) }).toEqual({
            enc,
            value,
            status: 400,
            names: true,
          });
          expect(r.text.length).toBeLessThan(300);
        }
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it('a password is never echoed in a validation message', async () => {
    const r = await req('put', '/create_user/', ROOT, {
      project: ADMIN_PROJECT,
      user: 'u1',
      password: 'P'.repeat(300),
    });
    expect(r.status).toBe(400);
    expect(r.text).toBe('password must be at most 256 characters');
    const j = await req('put', '/create_user/', ROOT, { project: ADMIN_PROJECT, user: 'u1', password: 12345 }, 'json');
    expect(j.text).toBe('password must be a string');
  });
});

describe('memberships, passwords and ownership change access at once', () => {
  it('a revoked member is refused (401) from the next request on; granted again, it works again', async () => {
    await asAdmin('delete', '/remove_user_project/', { user: 'alice', target_project: P1 });
    await expectText(req('post', '/list_images/', ALICE, { project: P1 }), 401, NO_ACCESS);
    await asAdmin('put', '/add_user_project/', { user: 'alice', target_project: P1 });
    await expectOk(req('post', '/list_images/', ALICE, { project: P1 }));
  });

  it('a user changes their own password; the old one is refused at once', async () => {
    const old = { ...BOB };
    BOB.password = 'Bob-new-pw-8h';
    await expectText(
      req('put', '/change_password/', old, { project: P2, user: 'bob', new_password: BOB.password }),
      200,
      'Success',
    );
    usedPasswords.add(BOB.password);
    await expectText(req('post', '/list_images/', old, { project: P2 }), 401, 'Authentication Failed');
    await expectOk(req('post', '/list_images/', BOB, { project: P2 }));
  });

  it("a user cannot change another user's password (403); an admin can", async () => {
    await expectText(
      req('put', '/change_password/', BOB, { project: P2, user: 'alice', new_password: 'stolen-pw' }),
      403,
      ADMIN_ROLE,
    );
    await expectText(
      req('post', '/list_images/', { username: 'alice', password: 'stolen-pw' }, { project: P1 }),
      401,
      'Authentication Failed',
    );
    const old = { ...DAVE };
    DAVE.password = 'Dave-reset-pw-3v';
    await asAdmin('put', '/change_password/', { user: 'dave', new_password: DAVE.password });
    usedPasswords.add(DAVE.password);
    await expectText(req('post', '/list_images/', old, { project: P1 }), 401, 'Authentication Failed');
    await expectText(req('post', '/list_images/', DAVE, { project: P1 }), 401, NO_ACCESS);
  });

  it('a node detached and given to another project: the old project loses it, the new one gets it', async () => {
    await expectText(
      req('put', '/provision/', ALICE, { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth0' }),
      200,
      'Success',
    );
    await asAdmin('delete', '/detach_node/', { node: 'node-01' });
    await expectText(
      req('delete', '/deprovision/', ALICE, { project: P1, node: 'node-01', nic: 'eth0' }),
      403,
      'Node node-01 is free: it must belong to project proj1',
    );
    await asAdmin('put', '/connect_node/', { node: 'node-01', target_project: P2 });
    await expectText(
      req('delete', '/deprovision/', ALICE, { project: P1, node: 'node-01', nic: 'eth0' }),
      401,
      NO_ACCESS,
    );
    // bob, now owning node-01, clears the boot files alice's project left on it
    await expectText(
      req('delete', '/deprovision/', BOB, { project: P2, node: 'node-01', nic: 'eth0' }),
      200,
      'Success',
    );
    expect(await listFiles(t.tftpRoot)).toEqual([]);
    await asAdmin('delete', '/detach_node/', { node: 'node-01' });
    await asAdmin('put', '/connect_node/', { node: 'node-01', target_project: P1 });
  });

  it('a deleted user is refused at once; its memberships are gone with it', async () => {
    await asAdmin('put', '/create_user/', { user: 'temp', password: 'Temp-pw-6j' });
    usedPasswords.add('Temp-pw-6j');
    await asAdmin('put', '/add_user_project/', { user: 'temp', target_project: P1 });
    await expectOk(req('post', '/list_images/', { username: 'temp', password: 'Temp-pw-6j' }, { project: P1 }));
    await asAdmin('delete', '/delete_user/', { user: 'temp' });
    await expectText(
      req('post', '/list_images/', { username: 'temp', password: 'Temp-pw-6j' }, { project: P1 }),
      401,
      'Authentication Failed',
    );
  });
});

/** Runs `bmi <args>` in-process against the app, as `user`, with `stdin` as standard input. */
async function bmi(
  user: User,
  args: string[],
  o: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  usedPasswords.add(user.password);
  const code = await runCli(['node', 'bmi', ...args], {
    // no settings file of the tester's own plays a part
    env: {
      BMI_URL: url,
      HIL_USERNAME: user.username,
      HIL_PASSWORD: user.password,
      BMI_CLIENT_CONFIG: '/nonexistent/bmi/config',
      ...o.env,
    },
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readStdin: async () => {
      if (o.stdin === undefined) throw new Error('stdin read unexpectedly');
      return o.stdin;
    },
  });
  seen.push(out, err);
  return { code, out, err };
}

async function ok(user: User, args: string[], o: { stdin?: string; env?: Record<string, string> } = {}) {
  const r = await bmi(user, args, o);
  if (r.code !== 0) throw new Error(`bmi ${args.join(' ')} exited ${r.code}: ${r.err}`);
  expect(r.err).toBe('');
  return r.out;
}

/** The data rows of a cli-table3 table (header first). */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('│')
        .map((c) => c.trim()),
    );
}

describe('bmi CLI in standalone mode', () => {
  const EVE: User = { username: 'eve', password: 'Eve-pw-from-stdin' };

  it('user create reads the password from stdin (--password-stdin), prints the user', async () => {
    usedPasswords.add(EVE.password);
    const out = await ok(ROOT, ['user', 'create', 'eve', '--password-stdin'], { stdin: `${EVE.password}\n` });
    expect(rows(out)).toEqual([
      ['Field', 'Value'],
      ['name', 'eve'],
      ['admin', 'false'],
      ['projects', ''],
    ]);
    expect(out).not.toContain(EVE.password);
  });

  it('user create --admin takes the password from BMI_NEW_PASSWORD', async () => {
    usedPasswords.add('Frank-pw-env');
    const out = await ok(ROOT, ['--json', 'user', 'create', 'frank', '--admin'], {
      env: { BMI_NEW_PASSWORD: 'Frank-pw-env' },
    });
    expect(JSON.parse(out)).toEqual({ name: 'frank', admin: true, projects: [] });
    expect(await ok({ username: 'frank', password: 'Frank-pw-env' }, ['user', 'rm', 'frank'])).toBe('Success\n');
  });

  it('user create without a password source is a usage error (2), and nothing is sent', async () => {
    const r = await bmi(ROOT, ['user', 'create', 'ghost']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'Error: give the new password on standard input with --password-stdin, or in BMI_NEW_PASSWORD\n',
    );
    const empty = await bmi(ROOT, ['user', 'create', 'ghost', '--password-stdin'], { stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.err).toBe('Error: the new password is empty\n');
    expect(JSON.parse(await ok(ROOT, ['--json', 'user', 'ls']))).not.toContainEqual(
      expect.objectContaining({ name: 'ghost' }),
    );
  });

  it('user grant / revoke / ls', async () => {
    expect(await ok(ROOT, ['user', 'grant', 'eve', P1])).toBe('Success\n');
    expect(await ok(ROOT, ['user', 'grant', 'eve', P2])).toBe('Success\n');
    expect(rows(await ok(ROOT, ['user', 'ls'])).find((r) => r[0] === 'eve')).toEqual(['eve', 'false', 'proj1, proj2']);
    expect(await ok(EVE, ['ls', P2, '-f', 'value', '-c', 'name'])).toBe('centos7\n');
    expect(await ok(ROOT, ['user', 'revoke', 'eve', P2])).toBe('Success\n');
    const refused = await bmi(EVE, ['ls', P2]);
    expect(refused).toMatchObject({ code: 4, err: `Error (401 HIL_AUTHENTICATION_FAILED): ${NO_ACCESS}\n` });
    const again = await bmi(ROOT, ['user', 'revoke', 'eve', P2]);
    expect(again).toMatchObject({
      code: 5,
      err: 'Error (404 MEMBERSHIP_NOT_FOUND): User eve is not a member of project proj2\n',
    });
  });

  it('user passwd: a user changes their own password (from stdin)', async () => {
    const next = 'Eve-pw-2nd';
    usedPasswords.add(next);
    expect(await ok(EVE, ['user', 'passwd', 'eve', '--password-stdin'], { stdin: `${next}\r\n` })).toBe('Success\n');
    expect((await bmi(EVE, ['ls', P1])).code).toBe(4);
    EVE.password = next;
    expect(await ok(EVE, ['ls', P1, '-f', 'value', '-c', 'name'])).toBe('bmi_test\n');
    const other = await bmi(EVE, ['user', 'passwd', 'alice'], { env: { BMI_NEW_PASSWORD: 'x' } });
    expect(other).toMatchObject({ code: 4, err: `Error (403 ADMIN_REQUIRED): ${ADMIN_ROLE}\n` });
  });

  it('node register / ls / connect / detach / rm, and nic add / rm', async () => {
    expect(await ok(ROOT, ['-f', 'json', 'node', 'register', 'node-07'])).toBe(
      '{"name":"node-07","project":null,"nics":[]}\n',
    );
    expect(await ok(ROOT, ['-f', 'json', 'nic', 'add', 'node-07', 'eth0', '52:54:00:0A:0B:0C'])).toBe(
      '{"label":"eth0","mac":"52:54:00:0a:0b:0c"}\n',
    );
    expect(await ok(ROOT, ['nic', 'add', 'node-07', 'ib0', '52:54:00:0a:0b:0d', '-f', 'value', '-c', 'mac'])).toBe(
      '52:54:00:0a:0b:0d\n',
    );
    expect(await ok(ROOT, ['node', 'connect', 'node-07', P1])).toBe('Success\n');
    expect(rows(await ok(ROOT, ['node', 'ls'])).find((r) => r[0] === 'node-07')).toEqual([
      'node-07',
      P1,
      'eth0 52:54:00:0a:0b:0c, ib0 52:54:00:0a:0b:0d',
    ]);
    // eve, a member of proj1, can now boot it (pxelinux file from the lower-cased MAC)
    expect(await ok(EVE, ['disk', 'create', P1, 'bmi_test', 'eved', '-f', 'value', '-c', 'target'])).toMatch(
      /^5img\d+\n$/,
    );
    expect(await ok(EVE, ['pro', P1, 'node-07', 'eved', 'eth0', '-f', 'value', '-c', 'mac'])).toBe(
      '52:54:00:0a:0b:0c\n',
    );
    expect(readFileSync(path.join(t.pxelinuxDir, '01-52-54-00-0a-0b-0c'), 'utf8')).toBe(
      expectedPxelinux('eved', 'node-07'),
    );
    expect(await ok(EVE, ['dpro', P1, 'node-07', 'eth0'])).toBe('Success\n');
    const busy = await bmi(ROOT, ['node', 'rm', 'node-07']);
    expect(busy).toMatchObject({
      code: 6,
      err: 'Error (409 NODE_OWNERSHIP_CONFLICT): Node node-07 is connected to project proj1; detach it first\n',
    });
    expect(await ok(ROOT, ['node', 'detach', 'node-07'])).toBe('Success\n');
    expect((await bmi(EVE, ['pro', P1, 'node-07', 'eved', 'eth0'])).err).toBe(
      'Error (403 NODE_NOT_OWNED): Node node-07 is free: it must belong to project proj1\n',
    );
    expect(await ok(ROOT, ['nic', 'rm', 'node-07', 'ib0'])).toBe('Success\n');
    expect(await ok(ROOT, ['node', 'rm', 'node-07'])).toBe('Success\n');
    expect(rows(await ok(ROOT, ['node', 'ls'])).map((r) => r[0])).toEqual(['name', 'node-01', 'node-02', 'node-03']);
  });

  it('node ip still works beside the new node subcommands', async () => {
    const r = await bmi(ALICE, ['node', 'ip', P1, 'node-01']);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/^Error \(404 NO_LEASE\): .*Has Not Been Assigned An IP Yet\n$/);
  });

  it('non-admins are refused (403) by every admin command; a wrong password is 401', async () => {
    for (const args of [
      ['user', 'ls'],
      ['user', 'rm', 'alice'],
      ['user', 'grant', 'eve', P2],
      ['user', 'revoke', 'eve', P1],
      ['node', 'ls'],
      ['node', 'register', 'x'],
      ['node', 'rm', 'node-02'],
      ['node', 'connect', 'node-02', P1],
      ['node', 'detach', 'node-01'],
      ['nic', 'add', 'node-02', 'eth9', '00:00:00:00:00:99'],
      ['nic', 'rm', 'node-02', 'eth0'],
    ]) {
      const r = await bmi(EVE, args);
      expect({ args, code: r.code, err: r.err }).toEqual({
        args,
        code: 4,
        err: `Error (403 ADMIN_REQUIRED): ${ADMIN_ROLE}\n`,
      });
    }
    const wrong = await bmi({ username: 'admin', password: 'Wrong-pw-0n' }, ['user', 'ls']);
    expect(wrong).toMatchObject({ code: 4, err: 'Error (401 HIL_AUTHENTICATION_FAILED): Authentication Failed\n' });
  });

  it('--help lists the new commands', async () => {
    for (const [cmd, subs] of [
      ['user', ['ls', 'create', 'rm', 'grant', 'revoke', 'passwd']],
      ['node', ['ip', 'ls', 'register', 'rm', 'connect', 'detach']],
      ['nic', ['add', 'rm']],
    ] as const) {
      const r = await bmi(ROOT, [cmd, '--help']);
      expect(r.code).toBe(0);
      for (const s of subs) expect(r.out).toMatch(new RegExp(`^  ${s}\\b`, 'm'));
    }
  });
});

describe('no password, ever', () => {
  it('appears in any response, any CLI output or any log line of this file', () => {
    expect(usedPasswords.size).toBeGreaterThan(8);
    const all = seen.join('\n');
    for (const pw of [...usedPasswords, ...PASSWORDS()]) {
      expect({ pw, found: all.includes(pw) }).toEqual({ pw, found: false });
    }
    // and the log did record things (the check above would be vacuous otherwise)
    expect(all).toContain('created user alice');
  });
});

describe('other modes', () => {
  it('every standalone route answers 409 "standalone mode is off" (here: fake HIL), nothing written', async () => {
    const fake = await startTestApp({ env: { BMI_NET_ISOLATOR_ADMIN_PASSWORD: 'whatever' } });
    try {
      for (const [name, m, p, body] of ADMIN_ROUTES) {
        const r = await call(fake, m, p, { username: 'admin', password: 'admin' }, { project: ADMIN_PROJECT, ...body });
        expect({ name, status: r.status }).toEqual({ name, status: 409 });
        expect(r.text).toBe(
          "standalone mode is off ([driver] net_isolator = fake): users, projects' members, nodes and NICs are " +
            'managed in the network isolator',
        );
      }
      // the fake HIL's users are untouched and still work
      await expectOk(
        call(fake, 'post', '/list_projects/', { username: 'admin', password: 'admin' }, { project: ADMIN_PROJECT }),
      );
    } finally {
      await fake.close();
    }
  });
});

describe('first start', () => {
  it('without [net_isolator] admin_password, the start fails with a message saying what to set', async () => {
    const err = await rejection(
      startTestApp({ env: { BMI_DRIVER_NET_ISOLATOR: 'standalone', BMI_NET_ISOLATOR_ADMIN_USER: 'root' } }),
    );
    expect(err.message).toBe(
      'standalone mode: BMI has no user yet, and [net_isolator] admin_password is empty. Set it (or ' +
        'BMI_NET_ISOLATOR_ADMIN_PASSWORD) for this start: BMI then creates the admin user "root" with that password',
    );
  });
});

describe('the server process in standalone mode', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(SERVER_MAIN))
      throw new Error(`${SERVER_MAIN} is missing: run "npm run build" first (npm test does)`);
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-standalone-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function config(port: number): string {
    const file = path.join(dir, 'bmi.cfg');
    writeFileSync(
      file,
      [
        '[bmi]',
        'uid = 5',
        '[db]',
        `path = ${dir}/bmi.db`,
        '[rest_api]',
        'ip = 127.0.0.1',
        `port = ${port}`,
        '[driver]',
        'fs = fake',
        'iscsi = fake',
        'net_isolator = standalone',
        '[iscsi]',
        'ip = 10.0.0.1',
        '[tftp]',
        `pxelinux_path = ${dir}/tftpboot/pxelinux.cfg`,
        `ipxe_path = ${dir}/tftpboot`,
      ].join('\n'),
    );
    return file;
  }

  it('refuses its first start without admin_password (exit 1), then starts with it, then without it', async () => {
    const port = await freePort();
    const file = config(port);
    const refused = startServer({ BMI_CONFIG: file });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('[net_isolator] admin_password is empty');
    expect(refused.output()).toContain('BMI_NET_ISOLATOR_ADMIN_PASSWORD');

    const pw = 'Proc-admin-pw-4r';
    const first = startServer({ BMI_CONFIG: file, BMI_NET_ISOLATOR_ADMIN_PASSWORD: pw });
    try {
      await waitFor(first, 'serving on');
      expect(first.output()).toContain('created the first admin user admin');
      const res = await fetch(`http://127.0.0.1:${port}/list_users/`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'project=bmi_infra',
      });
      expect({ status: res.status, text: await res.text() }).toEqual({
        status: 200,
        text: '[{"name":"admin","isAdmin":true,"projects":[]}]',
      });
    } finally {
      first.proc.kill('SIGTERM');
      await first.exited;
    }
    expect(first.output()).not.toContain(pw);

    // the admin exists now: later starts need no password
    const later = startServer({ BMI_CONFIG: file });
    try {
      await waitFor(later, 'serving on');
    } finally {
      later.proc.kill('SIGTERM');
      await later.exited;
    }
    expect(later.output()).not.toContain('created the first admin user');
  });
});
