/**
 * The HIL-compatible server (tools/hil-server) beyond the recorded exchanges: HIL's routing, validation and
 * authentication corners, the setup routes' own errors, byte-exact json.dumps of metadata, the seed format,
 * and the server as a process (`npm run hil:server`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HilSeed, HilState } from '../../tools/hil-server';
import { basic, CONFIG_SEED_FILE, HilServer, rawRequest, startHil } from '../utils/hil-server';

const ADMIN = basic('admin', 'admin');
const ALICE = basic('alice', 'alicepass');
const BOB = basic('bob', 'bobpass');
const JSON_TYPE = { 'Content-Type': 'application/json' };
const HTML = 'text/html; charset=utf-8';

/** HIL's error body: json.dumps of {"type", "msg"} (ASCII messages: JSON.stringify escapes them the same way). */
const error = (type: string, msg: string) => `{"type": "${type}", "msg": ${JSON.stringify(msg)}}`;
const AUTH_FAILED = error(
  'AuthorizationError',
  'Authentication failed. Authentication is required to use this service.',
);
const INVALID = error('ValidationError', 'Request arguments are not valid for this request');

let hil: HilServer;
beforeEach(async () => {
  hil = await startHil();
});
afterEach(() => hil.close());

const req = (method: string, p: string, headers: Record<string, string> = {}, body: string | null = null) =>
  rawRequest(hil.url, method, p, headers, body);
const put = (p: string, body: unknown, headers = ADMIN) =>
  req('PUT', p, { ...headers, ...JSON_TYPE }, body === undefined ? null : JSON.stringify(body));
const post = (p: string, body: unknown, headers = ADMIN) =>
  req('POST', p, { ...headers, ...JSON_TYPE }, JSON.stringify(body));

async function expectReply(res: Promise<{ status: number; body: string }>, status: number, body: string) {
  const r = await res;
  expect({ status: r.status, body: r.body }).toEqual({ status, body });
}

describe('routing (Werkzeug)', () => {
  it('an unknown path is a 404 page, before any authentication', async () => {
    for (const p of ['/v0/free_nodes', '/v0/node/node-01/', '/node-01', '/v1/projects', '/v0/node/a/b']) {
      const r = await req('GET', p);
      expect({ p, status: r.status, type: r.headers['content-type'] }).toEqual({ p, status: 404, type: HTML });
      expect(r.body).toContain('<title>404 Not Found</title>');
    }
  });

  it('a known path with another method is a 405 page with Allow', async () => {
    const r = await req('DELETE', '/v0/nodes/free', ADMIN);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(r.body).toContain('<title>405 Method Not Allowed</title>');
    expect((await req('POST', '/v0/node/node-01', ADMIN)).headers.allow).toBe('GET, HEAD, OPTIONS, PUT');
  });

  it('OPTIONS answers Allow without authentication; HEAD is a GET without the body', async () => {
    const o = await req('OPTIONS', '/v0/project/proj1/nodes');
    expect({ status: o.status, allow: o.headers.allow, body: o.body }).toEqual({
      status: 200,
      allow: 'GET, HEAD, OPTIONS',
      body: '',
    });
    const get = await req('GET', '/v0/node/node-01', ALICE);
    const head = await req('HEAD', '/v0/node/node-01', ALICE);
    expect({ status: head.status, body: head.body, length: head.headers['content-length'] }).toEqual({
      status: 200,
      body: '',
      length: String(Buffer.byteLength(get.body)),
    });
  });

  it('percent-escapes in the path are decoded before routing, as WSGI does', async () => {
    await expectReply(req('GET', '/v0/node/node%2D01', ALICE), 200, (await req('GET', '/v0/node/node-01', ALICE)).body);
    expect((await req('GET', '/v0/node/node%2F01', ALICE)).status).toBe(404);
  });
});

describe('argument validation comes before authentication', () => {
  it('a GET with a query string or a body is a 400, whoever asks', async () => {
    for (const who of [{}, ALICE, basic('mallory', 'x')]) {
      await expectReply(req('GET', '/v0/nodes/free?x=1', who), 400, INVALID);
      await expectReply(
        req('GET', '/v0/nodes/free?x', who),
        400,
        error('ValidationError', 'Empty parameter specified'),
      );
      await expectReply(
        req('GET', '/v0/projects', { ...who, ...JSON_TYPE }, '{}'),
        400,
        error('ValidationError', 'GET request made with a non-empty request body'),
      );
    }
  });

  it('a GET with a form body passes (Werkzeug parses it as a form, request.data stays empty)', async () => {
    const r = await req(
      'GET',
      '/v0/nodes/free',
      { ...BOB, 'Content-Type': 'application/x-www-form-urlencoded' },
      'a=b',
    );
    expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: '["node-02"]' });
  });

  it('a body that is not JSON, a missing, extra or mistyped field: 400, even without credentials', async () => {
    await expectReply(
      req('PUT', '/v0/project/p9', JSON_TYPE, '{"a": '),
      400,
      error('ValidationError', 'The request body is not valid JSON'),
    );
    await expectReply(put('/v0/auth/basic/user/carol', { password: 'x', extra: 1 }, {}), 400, INVALID);
    await expectReply(put('/v0/auth/basic/user/carol', { is_admin: true }, {}), 400, INVALID);
    await expectReply(put('/v0/auth/basic/user/carol', { password: 'x', is_admin: 'yes' }, {}), 400, INVALID);
    await expectReply(put('/v0/node/node-01/obm', { enabled: 1 }, {}), 400, INVALID);
    // a path argument given again in the body
    await expectReply(post('/v0/project/proj1/connect_node', { node: 'node-02', project: 'proj1' }, {}), 400, INVALID);
    // with valid arguments, the same call without credentials is a 401
    await expectReply(put('/v0/auth/basic/user/carol', { password: 'x' }, {}), 401, AUTH_FAILED);
  });

  it('a JSON body that is not an object breaks HIL (500 page)', async () => {
    const r = await req('PUT', '/v0/project/p9', { ...ADMIN, ...JSON_TYPE }, '["p9"]');
    expect(r.status).toBe(500);
    expect(r.body).toContain('Internal Server Error');
    expect(hil.state.projects.has('p9')).toBe(false);
  });
});

describe('authentication (Basic, database backend)', () => {
  it('accepts the scheme in any case and padding HIL accepts', async () => {
    const token = Buffer.from('alice:alicepass').toString('base64');
    for (const h of [`basic ${token}`, `BASIC   ${token}  `, `Basic ${token.replace(/=+$/, '')}==`]) {
      expect({ h, status: (await req('GET', '/v0/nodes/free', { Authorization: h })).status }).toEqual({
        h,
        status: 200,
      });
    }
  });

  it('malformed headers are 401; an empty or unknown user name a 404', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (const h of ['Bearer abc', 'Basic', 'Basic !!!!', `Basic ${b64('no-colon')}`, `Digest username="alice"`]) {
      await expectReply(req('GET', '/v0/nodes/free', { Authorization: h }), 401, AUTH_FAILED);
    }
    await expectReply(
      req('GET', '/v0/nodes/free', { Authorization: `Basic ${b64(':x')}` }),
      404,
      error('NotFoundError', 'User  does not exist.'),
    );
    await expectReply(req('GET', '/v0/nodes/free', basic('alice', '')), 401, AUTH_FAILED);
    await expectReply(
      req('GET', '/v0/nodes/free', basic('zoë', 'x')),
      404,
      '{"type": "NotFoundError", "msg": "User zo\\u00eb does not exist."}',
    );
  });
});

describe('handlers beyond the recording', () => {
  it("duplicates are 409 DuplicateError with HIL's messages", async () => {
    await expectReply(
      put('/v0/project/proj1', undefined),
      409,
      error('DuplicateError', 'Project proj1 already exists.'),
    );
    await expectReply(
      put('/v0/node/node-01', { obmd: { uri: 'http://o/node/node-01', admin_token: 't' } }),
      409,
      error('DuplicateError', 'Node node-01 already exists.'),
    );
    await expectReply(
      put('/v0/node/node-01/nic/eth0', { macaddr: 'x' }),
      409,
      error('DuplicateError', 'Nic eth0 on Node node-01 already exists'),
    );
    await expectReply(
      post('/v0/auth/basic/user/alice/add_project', { project: 'proj1' }),
      409,
      error('DuplicateError', 'User alice is already in project proj1'),
    );
  });

  it('setup routes are admin-only; lookups name what is missing', async () => {
    const ADMIN_ONLY = error('AuthorizationError', 'This operation is administrator-only.');
    await expectReply(put('/v0/project/p9', undefined, ALICE), 401, ADMIN_ONLY);
    await expectReply(put('/v0/node/node-01/nic/eth7', { macaddr: 'x' }, ALICE), 401, ADMIN_ONLY);
    await expectReply(req('GET', '/v0/auth/basic/users', ALICE), 401, ADMIN_ONLY);
    await expectReply(
      post('/v0/auth/basic/user/alice/add_project', { project: 'nope' }),
      404,
      error('NotFoundError', 'Project nope does not exist.'),
    );
    await expectReply(
      post('/v0/auth/basic/user/nobody/add_project', { project: 'proj1' }),
      404,
      error('NotFoundError', 'User nobody does not exist.'),
    );
    await expectReply(
      post('/v0/project/proj1/connect_node', { node: 'nope' }, ALICE),
      404,
      error('NotFoundError', 'Node nope does not exist.'),
    );
    await expectReply(
      post('/v0/project/proj2/connect_node', { node: 'node-02' }, ALICE),
      401,
      error('AuthorizationError', 'You do not have access to the required project.'),
    );
  });

  it('a member claims a free node and gives it back; detach refuses a node of another project', async () => {
    await expectReply(post('/v0/project/proj2/connect_node', { node: 'node-02' }, BOB), 200, '');
    await expectReply(req('GET', '/v0/project/proj2/nodes', BOB), 200, '["node-02"]');
    await expectReply(req('GET', '/v0/nodes/free', BOB), 200, '[]');
    await expectReply(
      post('/v0/project/proj1/detach_node', { node: 'node-02' }, ALICE),
      404,
      error('NotFoundError', 'Node not in project'),
    );
    await expectReply(post('/v0/project/proj2/detach_node', { node: 'node-02' }, BOB), 200, '');
    await expectReply(req('GET', '/v0/nodes/free', BOB), 200, '["node-02"]');
  });

  it('power_status redirects to the fake obmd of this server when the node has no obmd uri', async () => {
    await expectReply(put('/v0/node/node-01/obm', { enabled: true }, ALICE), 200, '');
    const r = await req('GET', '/v0/node/node-01/power_status', ALICE);
    expect(r.status).toBe(307);
    const token = hil.state.nodes.get('node-01')?.obmToken ?? '';
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers.location).toBe(`${hil.url}/node/node-01/power_status?token=${token}`);
    const target = new URL(String(r.headers.location));
    await expectReply(req('GET', `${target.pathname}${target.search}`), 200, '{"power_status":"off"}\n');
    expect((await req('GET', '/node/node-01/power_status?token=wrong')).status).toBe(401);
    await expectReply(
      post('/v0/project/proj1/detach_node', { node: 'node-01' }, ALICE),
      409,
      error('BlockedError', "Node's obm is enabled."),
    );
    await expectReply(put('/v0/node/node-01/obm', { enabled: false }, ALICE), 200, '');
    expect((await req('GET', `${target.pathname}${target.search}`)).status).toBe(401);
  });

  it("switches: only the mock type; ports and wiring with HIL's messages", async () => {
    const sw = {
      type: 'http://schema.massopencloud.org/haas/v0/switches/mock',
      hostname: 'h',
      username: 'u',
      password: 'p',
    };
    await expectReply(
      put('/v0/switch/sw9', { ...sw, type: "it's" }),
      400,
      error('BadArgumentError', `"it's" is not a valid switch type.`),
    );
    await expectReply(put('/v0/switch/sw0', { ...sw, password: undefined }), 400, INVALID);
    await expectReply(put('/v0/switch/sw0', sw), 200, '');
    await expectReply(put('/v0/switch/sw0', sw), 409, error('DuplicateError', 'Switch sw0 already exists.'));
    await expectReply(req('PUT', '/v0/switch/sw0/port/gi1/0/1', ADMIN), 200, '');
    await expectReply(
      req('PUT', '/v0/switch/sw0/port/gi1/0/1', ADMIN),
      409,
      error('DuplicateError', 'Port gi1/0/1 on MockSwitch sw0 already exists'),
    );
    await expectReply(
      post('/v0/switch/sw0/port/gi1/0/2/connect_nic', { node: 'node-01', nic: 'eth0' }),
      404,
      error('NotFoundError', 'Port gi1/0/2 on MockSwitch sw0 does not exist.'),
    );
    await expectReply(post('/v0/switch/sw0/port/gi1/0/1/connect_nic', { node: 'node-01', nic: 'eth1' }), 200, '');
    await expectReply(
      post('/v0/switch/sw0/port/gi1/0/1/connect_nic', { node: 'node-01', nic: 'eth1' }),
      409,
      error('DuplicateError', 'eth1'),
    );
    const admin = JSON.parse((await req('GET', '/v0/node/node-01', ADMIN)).body) as { nics: unknown[] };
    expect(admin.nics).toEqual([
      { label: 'eth0', macaddr: '52:54:00:12:34:56', networks: {}, port: null, switch: null },
      { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef', networks: {}, port: 'gi1/0/1', switch: 'sw0' },
    ]);
  });

  it("metadata is stored json.dumps'ed and shown sorted, byte for byte as Python does", async () => {
    // the request body and the response as Python's json module reads and writes them (checked with CPython)
    const body =
      '{"obmd": {"uri": "http://obmd/node/n9", "admin_token": "t"}, "metadata": {"b": 1.0, "2": [1e16, 1e-5, ' +
      '"\\u00e9\\ud83d\\ude00"], "a": {"z": null, "10": true}, "B": 12345678901234567890}}';
    await expectReply(req('PUT', '/v0/node/n9', { ...ADMIN, ...JSON_TYPE }, body), 200, '');
    await expectReply(
      req('GET', '/v0/node/n9', BOB),
      200,
      '{"metadata": {"2": "[1e+16, 1e-05, \\"\\\\u00e9\\\\ud83d\\\\ude00\\"]", "B": "12345678901234567890", ' +
        '"a": "{\\"z\\": null, \\"10\\": true}", "b": "1.0"}, "name": "n9", "nics": [], "project": null}',
    );
  });
});

describe('seeds', () => {
  it('config/hil-seed.json: its users, projects and nodes, as HIL lists them', async () => {
    await expectReply(
      req('GET', '/v0/auth/basic/users', ADMIN),
      200,
      '{"admin": {"is_admin": true, "projects": []}, "alice": {"is_admin": false, "projects": ["proj1"]}, ' +
        '"bob": {"is_admin": false, "projects": ["proj2"]}}',
    );
    await expectReply(req('GET', '/v0/projects', ADMIN), 200, '["proj1", "proj2"]');
    await expectReply(req('GET', '/v0/nodes/all', BOB), 200, '["node-01", "node-02"]');
    const seed = JSON.parse(readFileSync(CONFIG_SEED_FILE, 'utf8')) as HilSeed;
    expect(Object.keys(seed.nodes)).toEqual(['node-01', 'node-02']);
  });

  it('the extended seed: metadata, wired NICs, OBM enabled with a given token, power', async () => {
    const seed: HilSeed = {
      users: { root: { password: 'r', is_admin: true }, u: { password: 'p', projects: ['p'] } },
      projects: ['p'],
      nodes: {
        n1: {
          project: 'p',
          nics: [{ label: 'ib0', macaddr: 'AA:bb', switch: 's1', port: 'te1/1' }],
          metadata: { rack: 'r1', EK: { k: 1 } },
          obmd: { uri: 'http://obmd:5101/node/n1', admin_token: 'a', enabled: true, token: 'tok' },
        },
      },
      obmd: { power: { n1: 'on' } },
    };
    await hil.close();
    hil = await startHil(seed);
    await expectReply(
      req('GET', '/v0/node/n1', basic('root', 'r')),
      200,
      '{"metadata": {"EK": "{\\"k\\": 1}", "rack": "\\"r1\\""}, "name": "n1", "nics": [{"label": "ib0", ' +
        '"macaddr": "AA:bb", "networks": {}, "port": "te1/1", "switch": "s1"}], "project": "p"}',
    );
    const r = await req('GET', '/v0/node/n1/power_status', basic('u', 'p'));
    expect(r.headers.location).toBe('http://obmd:5101/node/n1/power_status?token=tok');
    await expectReply(req('GET', '/node/n1/power_status?token=tok'), 200, '{"power_status":"on"}\n');
  });

  it('refuses a seed that names a project it does not have', () => {
    expect(() =>
      HilState.fromSeed({ users: { u: { password: 'p', projects: ['x'] } }, projects: [], nodes: {} }),
    ).toThrow(/user u: project x is not in "projects"/);
    expect(() => HilState.fromSeed({ users: {}, projects: [], nodes: { n: { project: 'y', nics: [] } } })).toThrow(
      /node n: project y/,
    );
  });
});

describe('as a process: npm run hil:server', () => {
  const ROOT = path.resolve(__dirname, '../..');
  const script = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts['hil:server'];

  /** The npm script's command with `args`, run through sh's exec so that signals reach node itself. */
  function run(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number> } {
    const child = spawn('sh', ['-c', `exec ${script} "$@"`, 'sh', ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
    );
    return { child, out: () => out, err: () => err, exit };
  }

  async function ready(p: ReturnType<typeof run>): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const m = /^hil-server listening on (http:\/\/\S+)/m.exec(p.out());
      if (m) return m[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ready line: ${p.out()} ${p.err()}`);
  }

  it('is an npm script running the TypeScript entry point', () => {
    expect(script).toBe('node -r ts-node/register/transpile-only tools/hil-server/main.ts');
  });

  it('prints one line with its URL, serves the seed, never logs a password, stops on SIGTERM', async () => {
    const p = run(['--seed', 'config/hil-seed.json', '--port', '0']);
    try {
      const url = await ready(p);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await rawRequest(url, 'GET', '/v0/node/node-01', ALICE)).status).toBe(200);
      expect((await rawRequest(url, 'GET', '/v0/node/node-01', basic('alice', 's3cr3t-wrong'))).status).toBe(401);
      await rawRequest(url, 'PUT', '/v0/auth/basic/user/eve', { ...ADMIN, ...JSON_TYPE }, '{"password": "eve-s3cr3t"}');
      expect((await rawRequest(url, 'GET', '/v0/projects', basic('eve', 'eve-s3cr3t'))).status).toBe(401);
      p.child.kill('SIGTERM');
      expect(await p.exit).toBe(0);
      expect(p.out().trim().split('\n')).toHaveLength(1);
      expect(p.err()).toMatch(/GET \/v0\/node\/node-01 -> 200 \(alice\)/);
      for (const secret of ['alicepass', 's3cr3t-wrong', 'eve-s3cr3t', 'YWxpY2U6']) {
        expect(p.out() + p.err()).not.toContain(secret);
      }
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('stops on SIGINT too', async () => {
    const p = run(['--seed', 'config/hil-seed.json', '--port', '0', '--quiet', '--host', '127.0.0.1']);
    try {
      await ready(p);
      p.child.kill('SIGINT');
      expect(await p.exit).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('refuses a missing seed or a bad port with a usage line, and a port in use with an error', async () => {
    const noSeed = run(['--port', '0']);
    expect(await noSeed.exit).toBe(2);
    expect(noSeed.err()).toMatch(/--seed is required\nusage: hil-server --seed/);
    const badPort = run(['--seed', 'config/hil-seed.json', '--port', 'x']);
    expect(await badPort.exit).toBe(2);
    const busy = run(['--seed', 'config/hil-seed.json', '--port', new URL(hil.url).port]);
    expect(await busy.exit).toBe(1);
    expect(busy.err()).toMatch(/EADDRINUSE/);
  });
});
