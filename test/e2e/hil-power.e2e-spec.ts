/**
 * Power through HIL over HTTP: HttpHilClient against the HIL-compatible server (tools/hil-server), which, as
 * HIL master does, checks the caller and answers with a 307 to the node's obmd. The client follows it with
 * the same method and without the caller's credentials; obmd switches the node.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpHilClient } from '../../src/modules/hil/drivers/http-hil.client';
import { HilAuthenticationError, HilBlockedError } from '../../src/modules/hil/hil.errors';
import { PowerFailedError } from '../../src/modules/power/power.errors';
import { HilServer, startHil } from '../utils/hil-server';

const ALICE = { username: 'alice', password: 'alicepass' };
const BOB = { username: 'bob', password: 'bobpass' };

let hil: HilServer;
let obmd: Server;
/** what the stand-alone obmd of node-03 was sent */
const seenByObmd: { method: string; url: string; authorization?: string; body: string }[] = [];
let obmdStatus = 200;
let client: HttpHilClient;

beforeAll(async () => {
  obmd = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seenByObmd.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      res.writeHead(obmdStatus).end();
    });
  });
  await new Promise<void>((r) => obmd.listen(0, '127.0.0.1', () => r()));
  const obmdUrl = `http://127.0.0.1:${(obmd.address() as AddressInfo).port}/node/node-03`;
  hil = await startHil({
    users: {
      admin: { password: 'admin', is_admin: true, projects: [] },
      alice: { password: 'alicepass', projects: ['proj1'] },
      bob: { password: 'bobpass', projects: ['proj2'] },
    },
    projects: ['proj1', 'proj2'],
    nodes: {
      'node-01': { project: 'proj1', nics: [], obmd: { admin_token: 'a', enabled: true, token: 'tok-1' } },
      'node-02': { project: 'proj1', nics: [], obmd: { admin_token: 'a', enabled: false } },
      'node-03': {
        project: 'proj1',
        nics: [],
        obmd: { uri: obmdUrl, admin_token: 'a', enabled: true, token: 'tok-3' },
      },
      'node-04': { project: null, nics: [], obmd: { admin_token: 'a', enabled: true, token: 'tok-4' } },
    },
  });
  client = new HttpHilClient({ url: hil.url, timeoutMs: 5000 });
});

afterAll(async () => {
  await hil?.close();
  await new Promise((r) => obmd.close(r));
});

describe('HttpHilClient power', () => {
  it("switches the node through HIL's redirect to obmd, and reads its state back", async () => {
    expect(await client.powerStatus(ALICE, 'node-01')).toBe('off');
    await client.power(ALICE, 'node-01', 'cycle');
    expect(await client.powerStatus(ALICE, 'node-01')).toBe('on');
    await client.power(ALICE, 'node-01', 'off');
    expect(await client.powerStatus(ALICE, 'node-01')).toBe('off');
  });

  it("never hands the caller's credentials to obmd: it gets the method and HIL's token only", async () => {
    await client.power(ALICE, 'node-03', 'on');
    await client.power(ALICE, 'node-03', 'cycle');
    expect(seenByObmd).toEqual([
      { method: 'POST', url: '/node/node-03/power_on?token=tok-3', authorization: undefined, body: '' },
      // obmd reads a cycle's body: a soft one
      {
        method: 'POST',
        url: '/node/node-03/power_cycle?token=tok-3',
        authorization: undefined,
        body: '{"force":false}',
      },
    ]);
  });

  it("refuses as HIL does: another project's node, a free node (admins only), a node whose OBM is off", async () => {
    await expect(client.power(BOB, 'node-01', 'off')).rejects.toThrow(
      new HilAuthenticationError('You do not have access to the required project.'),
    );
    await expect(client.power(ALICE, 'node-04', 'on')).rejects.toBeInstanceOf(HilAuthenticationError);
    await client.power({ username: 'admin', password: 'admin' }, 'node-04', 'on');
    await expect(client.power(ALICE, 'node-02', 'on')).rejects.toThrow(new HilBlockedError('OBM is not enabled'));
  });

  it('reports an obmd that fails the request as POWER_FAILED', async () => {
    obmdStatus = 500;
    try {
      await expect(client.power(ALICE, 'node-03', 'cycle')).rejects.toBeInstanceOf(PowerFailedError);
    } finally {
      obmdStatus = 200;
    }
  });
});
