/**
 * BMI's HTTP client of HIL (src/modules/hil/drivers/http-hil.client.ts) against the HIL-compatible server
 * (tools/hil-server) seeded with config/hil-seed.json: admin/admin (HIL admin), alice/alicepass in proj1 which
 * owns node-01, bob/bobpass in proj2 (no nodes), node-02 free. Every method, every error mapping.
 */
import { HttpHilClient } from '../../src/modules/hil/drivers/http-hil.client';
import {
  HilAuthenticationError,
  HilBadResponseError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  HilUnavailableError,
} from '../../src/modules/hil/hil.errors';
import { Credentials } from '../../src/common/auth/caller';
import { HilServer, startHil } from '../utils/hil-server';

const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };
const BOB = { username: 'bob', password: 'bobpass' };
const WRONG_PASSWORD = { username: 'alice', password: 'bobpass' };
const UNKNOWN_USER = { username: 'mallory', password: 'alicepass' };

let hil: HilServer;
let client: HttpHilClient;

beforeAll(async () => {
  hil = await startHil();
  client = new HttpHilClient({ url: hil.url, timeoutMs: 2000, retries: 0 });
});
afterAll(() => hil.close());

/** The rejection of `p` (fails the test when p resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & { status?: number }> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.v)}`);
  return outcome.e as Error & { status?: number };
}

describe('getNode', () => {
  it('reads its own project node as a member, NICs in registration order, MAC case kept', async () => {
    await expect(client.getNode(ALICE, 'node-01')).resolves.toEqual({
      name: 'node-01',
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    });
  });

  it('reads any node as the HIL admin (the admin-only port/switch fields do not leak into BMI)', async () => {
    const node = await client.getNode(ADMIN, 'node-01');
    expect(node.project).toBe('proj1');
    expect(node.nics.map((n) => Object.keys(n).sort())).toEqual([
      ['label', 'macaddr'],
      ['label', 'macaddr'],
    ]);
  });

  it('reads a free node as any authenticated user, project null', async () => {
    await expect(client.getNode(BOB, 'node-02')).resolves.toEqual({
      name: 'node-02',
      project: null,
      nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }],
    });
  });

  it("refuses another project's node with 401 (HIL's AuthorizationError)", async () => {
    const err = await rejection(client.getNode(BOB, 'node-01'));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).toBe('You do not have access to the required project.');
  });

  it('maps an unknown node to 404 naming it, for members and admins alike', async () => {
    for (const who of [ALICE, BOB, ADMIN]) {
      const err = await rejection(client.getNode(who, 'nope'));
      expect(err).toBeInstanceOf(HilNodeNotFoundError);
      expect(err.status).toBe(404);
      expect(err.message).toBe('node nope not found');
    }
  });

  it('treats node names as case-sensitive (NODE-01 is unknown)', async () => {
    await expect(client.getNode(ADMIN, 'NODE-01')).rejects.toBeInstanceOf(HilNodeNotFoundError);
  });

  it('escapes the node name in the URL', async () => {
    const copy = (name: string) => ({ ...structuredClone(hil.state.nodes.get('node-02')!), name });
    hil.state.nodes.set('rack 1 node?#', copy('rack 1 node?#'));
    hil.state.nodes.set('rack/1', copy('rack/1'));
    try {
      await expect(client.getNode(BOB, 'rack 1 node?#')).resolves.toMatchObject({ name: 'rack 1 node?#' });
      // WSGI decodes %2F before routing: not even HIL can serve a node whose name has a "/" (a 404 page,
      // not HIL's NotFoundError: the client reports a URL HIL does not serve, 502)
      await expect(client.getNode(BOB, 'rack/1')).rejects.toBeInstanceOf(HilBadResponseError);
    } finally {
      hil.state.nodes.delete('rack 1 node?#');
      hil.state.nodes.delete('rack/1');
    }
  });
});

describe('listProjectNodes', () => {
  it('lists the nodes of a project for its members and for admins', async () => {
    await expect(client.listProjectNodes(ALICE, 'proj1')).resolves.toEqual(['node-01']);
    await expect(client.listProjectNodes(ADMIN, 'proj1')).resolves.toEqual(['node-01']);
    await expect(client.listProjectNodes(BOB, 'proj2')).resolves.toEqual([]);
  });

  it('refuses a non-member with 401', async () => {
    const err = await rejection(client.listProjectNodes(BOB, 'proj1'));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
  });

  it('maps an unknown project to 404, for members of other projects and admins alike', async () => {
    for (const who of [ALICE, ADMIN]) {
      const err = await rejection(client.listProjectNodes(who, 'nope'));
      expect(err).toBeInstanceOf(HilProjectNotFoundError);
      expect(err.status).toBe(404);
      expect(err.message).toBe('project nope not found in HIL');
    }
  });
});

describe('isAdmin', () => {
  it('tells the HIL admin from non-admins', async () => {
    await expect(client.isAdmin(ADMIN)).resolves.toBe(true);
    await expect(client.isAdmin(ALICE)).resolves.toBe(false);
    await expect(client.isAdmin(BOB)).resolves.toBe(false);
  });
});

describe('authentication failures', () => {
  const CALLS: [string, (c: Credentials) => Promise<unknown>][] = [
    ['getNode', (c) => client.getNode(c, 'node-01')],
    ['getNode of a free node', (c) => client.getNode(c, 'node-02')],
    ['getNode of an unknown node', (c) => client.getNode(c, 'nope')],
    ['listProjectNodes', (c) => client.listProjectNodes(c, 'proj1')],
    ['listProjectNodes of an unknown project', (c) => client.listProjectNodes(c, 'nope')],
    ['isAdmin', (c) => client.isAdmin(c)],
  ];

  it.each(CALLS)('a wrong password on %s is a 401', async (_name, call) => {
    const err = await rejection(call(WRONG_PASSWORD));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('bobpass');
  });

  it.each(CALLS)('an unknown user on %s is a 401, not a 404 (HIL answers 404)', async (_name, call) => {
    const err = await rejection(call(UNKNOWN_USER));
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('alicepass');
  });

  it('an empty password and a password with ":" are passed through as they are', async () => {
    await expect(client.getNode({ username: 'alice', password: '' }, 'node-01')).rejects.toBeInstanceOf(
      HilAuthenticationError,
    );
    hil.state.users.set('carol', { name: 'carol', password: 'ca:rol', isAdmin: false, projects: ['proj1'] });
    try {
      await expect(client.listProjectNodes({ username: 'carol', password: 'ca:rol' }, 'proj1')).resolves.toEqual([
        'node-01',
      ]);
    } finally {
      hil.state.users.delete('carol');
    }
  });
});

describe('the base URL', () => {
  it.each([
    ['without /v0', ''],
    ['with a trailing slash', '/'],
    ['with /v0', '/v0'],
    ['with /v0/', '/v0/'],
  ])('works %s', async (_name, suffix) => {
    const c = new HttpHilClient({ url: `${hil.url}${suffix}`, timeoutMs: 2000, retries: 0 });
    await expect(c.getNode(ALICE, 'node-01')).resolves.toMatchObject({ name: 'node-01' });
    await expect(c.isAdmin(ADMIN)).resolves.toBe(true);
  });

  it("with another API version, HIL's 404 page is a bad answer (502), not an empty success", async () => {
    const c = new HttpHilClient({ url: `${hil.url}/v1`, timeoutMs: 2000, retries: 0 });
    const err = await rejection(c.listProjectNodes(ALICE, 'proj1'));
    expect(err).toBeInstanceOf(HilBadResponseError);
    expect(err.status).toBe(502);
  });
});

describe('HIL unreachable', () => {
  it('is a 503 naming HIL once the server is gone', async () => {
    const gone = await startHil();
    await gone.close();
    const c = new HttpHilClient({ url: gone.url, timeoutMs: 1000, retries: 1, retryDelayMs: 10 });
    const err = await rejection(c.getNode(ALICE, 'node-01'));
    expect(err).toBeInstanceOf(HilUnavailableError);
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/HIL/);
    expect(err.message).not.toContain('alicepass');
  });
});
