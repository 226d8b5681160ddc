import { HIL_FIXTURES, HIL_USERS, HilReplay, startHilReplay } from '../utils/hil-replay';

const creds = HIL_USERS;
import * as http from 'node:http';
import { Socket } from 'node:net';
import { apiBase, HttpHilClient, withConnectTimeout } from '../../src/modules/hil/drivers/http-hil.client';
import {
  HilAuthenticationError,
  HilBadResponseError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  HilUnavailableError,
} from '../../src/modules/hil/hil.errors';

describe('HttpHilClient against recorded HIL exchanges', () => {
  let hil: HilReplay;
  let client: HttpHilClient;

  beforeAll(async () => {
    hil = await startHilReplay((req, res) => {
      if (req.url === '/v0/node/garbage') {
        res.writeHead(200).end('<html>not json</html>');
        return true;
      }
      if (req.url === '/v0/node/boom') {
        res.writeHead(500).end('{"type": "ServerError", "msg": "kaput"}');
        return true;
      }
      return false;
    });
    client = new HttpHilClient({ url: hil.url, timeoutMs: 2000 });
  });
  afterAll(() => hil.close());

  it('has the recorded fixtures it replays', () => {
    expect(HIL_FIXTURES.length).toBeGreaterThan(40);
  });

  it('reads an owned node as a member, MAC case kept', async () => {
    const node = await client.getNode(creds.alice, 'node-01');
    expect(node).toEqual({
      name: 'node-01',
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    });
  });

  it('reads a free node as any user, project null', async () => {
    await expect(client.getNode(creds.bob, 'node-02')).resolves.toMatchObject({ name: 'node-02', project: null });
  });

  it("maps another project's node to 401", async () => {
    const err = await client.getNode(creds.bob, 'node-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilAuthenticationError);
    expect((err as HilAuthenticationError).status).toBe(401);
  });

  it('maps a wrong password to 401', async () => {
    await expect(client.getNode(creds.wrongPassword, 'node-01')).rejects.toBeInstanceOf(HilAuthenticationError);
    await expect(client.listProjectNodes(creds.wrongPassword, 'proj1')).rejects.toBeInstanceOf(HilAuthenticationError);
  });

  it('maps an unknown user (HIL 404) to 401, not 404', async () => {
    const err = await client.getNode(creds.mallory, 'node-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilAuthenticationError);
  });

  it('maps an unknown node to 404 naming it', async () => {
    const err = await client.getNode(creds.alice, 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilNodeNotFoundError);
    expect((err as Error).message).toBe('node nope not found');
  });

  it('lists project nodes for members and admins, refuses others, 404s unknown projects', async () => {
    await expect(client.listProjectNodes(creds.alice, 'proj1')).resolves.toEqual(['node-01']);
    await expect(client.listProjectNodes(creds.admin, 'proj1')).resolves.toEqual(['node-01']);
    await expect(client.listProjectNodes(creds.bob, 'proj2')).resolves.toEqual([]);
    await expect(client.listProjectNodes(creds.bob, 'proj1')).rejects.toBeInstanceOf(HilAuthenticationError);
    await expect(client.listProjectNodes(creds.alice, 'nope')).rejects.toBeInstanceOf(HilProjectNotFoundError);
  });

  it('tells admins from non-admins', async () => {
    await expect(client.isAdmin(creds.admin)).resolves.toBe(true);
    await expect(client.isAdmin(creds.alice)).resolves.toBe(false);
  });

  it('maps a body that is not JSON and a HIL 5xx to 502', async () => {
    await expect(client.getNode(creds.alice, 'garbage')).rejects.toBeInstanceOf(HilBadResponseError);
    const err = await client.getNode(creds.alice, 'boom').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilBadResponseError);
    expect((err as HilBadResponseError).status).toBe(502);
  });

  it('keeps credentials out of error messages', async () => {
    const secret = { username: 'alice', password: 's3cr3t-pw' };
    const err = (await client.getNode(secret, 'node-01').catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('s3cr3t-pw');
  });

  it('maps an unreachable HIL to 503 naming HIL', async () => {
    const closed = await startHilReplay();
    await closed.close();
    const down = new HttpHilClient({ url: closed.url, timeoutMs: 1000 });
    const err = await down.getNode(creds.alice, 'node-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilUnavailableError);
    expect((err as HilUnavailableError).status).toBe(503);
    expect((err as Error).message).toMatch(/HIL/);
  });

  it("reports a 404 page that is not HIL's (a wrong URL) as 502, not as a missing node", async () => {
    const notHil = await startHilReplay((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
      return true;
    });
    try {
      const wrong = new HttpHilClient({ url: notHil.url, timeoutMs: 2000 });
      const err = await wrong.getNode(creds.alice, 'node-01').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HilBadResponseError);
      expect((err as Error).message).toMatch(/check \[net_isolator\] url/);
    } finally {
      await notHil.close();
    }
  });

  it('accepts the base URL with or without /v0 and trailing slashes', () => {
    expect(apiBase('http://h:7000')).toBe('http://h:7000/v0/');
    expect(apiBase('http://h:7000/')).toBe('http://h:7000/v0/');
    expect(apiBase('http://h:7000/v0')).toBe('http://h:7000/v0/');
    expect(apiBase('http://h:7000/v0/')).toBe('http://h:7000/v0/');
  });

  it('tries a GET again when the connection is reset, and gives up after the configured retries', async () => {
    let resets = 2;
    let seen = 0;
    const flaky = await startHilReplay((req) => {
      seen++;
      if (resets > 0) {
        resets--;
        req.socket.destroy();
        return true;
      }
      return false;
    });
    try {
      const patient = new HttpHilClient({ url: flaky.url, timeoutMs: 2000, retries: 2, retryDelayMs: 5 });
      await expect(patient.listProjectNodes(creds.alice, 'proj1')).resolves.toEqual(['node-01']);
      expect(seen).toBe(3);
      resets = 1;
      const impatient = new HttpHilClient({ url: flaky.url, timeoutMs: 2000, retries: 0, retryDelayMs: 5 });
      await expect(impatient.listProjectNodes(creds.alice, 'proj1')).rejects.toBeInstanceOf(HilUnavailableError);
    } finally {
      await flaky.close();
    }
  });

  it('does not try again when HIL answered, even with an error', async () => {
    let seen = 0;
    const counting = await startHilReplay(() => {
      seen++;
      return false;
    });
    try {
      const c = new HttpHilClient({ url: counting.url, timeoutMs: 2000, retries: 3, retryDelayMs: 5 });
      await expect(c.getNode(creds.bob, 'node-01')).rejects.toBeInstanceOf(HilAuthenticationError);
      expect(seen).toBe(1);
    } finally {
      await counting.close();
    }
  });
});

describe('withConnectTimeout', () => {
  it('destroys a connection that does not open in time, with a connection error code', async () => {
    const agent = new http.Agent();
    const never = new Socket(); // never connects
    (agent as unknown as { createConnection: () => Socket }).createConnection = () => never;
    withConnectTimeout(agent, 30);
    const socket = (agent as unknown as { createConnection: () => Socket }).createConnection();
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(error.code).toBe('ECONNTIMEOUT');
    expect(socket.destroyed).toBe(true);
  });

  it('leaves a connection that opens in time alone', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    const agent = withConnectTimeout(new http.Agent(), 50);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => setTimeout(() => resolve(text), 80)); // past the timeout: nothing fires
          })
          .on('error', reject);
      });
      expect(body).toBe('ok');
    } finally {
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
