import { readdirSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** One exchange recorded from a running HIL (test/fixtures/hil, copied from ../shared/hil-fixtures). */
export interface HilFixture {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; body: string };
}

const FIXTURES = path.resolve(__dirname, '../fixtures/hil');

export const HIL_FIXTURES: HilFixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.startsWith('_'))
  .map((f) => JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as HilFixture);

/** The users of the recording. */
export const HIL_USERS = {
  admin: { username: 'admin', password: 'adminpass' },
  alice: { username: 'alice', password: 'alicepass' },
  bob: { username: 'bob', password: 'bobpass' },
  mallory: { username: 'mallory', password: 'whatever' },
  wrongPassword: { username: 'alice', password: 'WRONG' },
};

const basic = (u: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;

/**
 * The Authorization header of the recording to answer a request with. GET /v0/projects was recorded for one
 * non-admin (alice); HIL refuses it alike to every authenticated non-admin ("administrator-only"), so bob gets
 * alice's answer.
 */
function asRecorded(method: string | undefined, url: string | undefined, auth: string | undefined): string {
  if (method === 'GET' && url === '/v0/projects' && auth === basic(HIL_USERS.bob)) return basic(HIL_USERS.alice);
  return auth ?? '';
}

/**
 * HIL checks credentials before it routes a request: for credentials it refused on every recorded path (a
 * wrong password, an unknown user), its answer does not depend on the path, and is given for any path.
 */
function pathless(auth: string | undefined): HilFixture['response'] | undefined {
  const answers = HIL_FIXTURES.filter((f) => (f.request.headers.Authorization ?? '') === (auth ?? '')).map(
    (f) => f.response,
  );
  const first = answers[0];
  if (!auth || !first || first.status === 200) return undefined;
  return answers.every((a) => a.status === first.status && a.body === first.body) ? first : undefined;
}

export interface HilReplay {
  server: Server;
  url: string;
  close: () => Promise<void>;
}

/**
 * An HTTP server that answers every body-less request exactly as HIL answered it in the recording (status and
 * body, HIL's text/html content type), keyed by method, path and Authorization header. `extra` may answer a
 * request first (return true when it did). Anything unrecorded gets 599.
 */
export function startHilReplay(extra?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<HilReplay> {
  const server = createServer((req, res) => {
    if (extra?.(req, res)) return;
    const hit = HIL_FIXTURES.find(
      (f) =>
        f.request.method === req.method &&
        f.request.path === req.url &&
        f.request.body === null &&
        (f.request.headers.Authorization ?? '') === asRecorded(req.method, req.url, req.headers.authorization),
    );
    const answer = hit?.response ?? pathless(req.headers.authorization);
    if (!answer) {
      res.writeHead(599).end('no fixture');
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8' }).end(answer.body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}
