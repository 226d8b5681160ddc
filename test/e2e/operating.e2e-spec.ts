import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parsePrometheus, samples, total } from '../utils/prometheus';
import { freePort, SERVER_MAIN, ServerProcess, startServer, waitFor } from '../utils/server-process';

/**
 * What an operator sees of a running BMI process: JSON log lines with request ids, health, readiness,
 * version and metrics, security headers, the DB file's mode, and the log file reopened on SIGHUP.
 */

const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };

function config(dir: string, port: number, extra = ''): string {
  return `
[bmi]
uid = 7
[db]
path = ${dir}/bmi.db
[rest_api]
port = ${port}
${extra}
[driver]
fs = fake
iscsi = fake
net_isolator = fake
[net_isolator]
cache_seconds = 60
[fs]
fake_images = golden
[iscsi]
ip = 10.0.0.1
[tftp]
pxelinux_path = ${dir}/tftp/pxelinux.cfg
ipxe_path = ${dir}/tftp
[logs]
path = ${dir}/logs/
`;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(
  url: string,
  init: { method?: string; user?: typeof ADMIN; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.user)
    headers.Authorization = `Basic ${Buffer.from(`${init.user.username}:${init.user.password}`).toString('base64')}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The process's log lines, each parsed as JSON (a line that is not JSON fails the test). */
function logLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
    });
}

async function until<T>(what: string, fn: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('operating a BMI process', () => {
  let dir: string;
  let url: string;
  let server: ServerProcess;
  let logFile: string;

  beforeAll(async () => {
    if (!existsSync(SERVER_MAIN))
      throw new Error(`${SERVER_MAIN} is missing: run "npm run build" first (npm test does)`);
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-ops-'));
    const port = await freePort();
    writeFileSync(path.join(dir, 'bmi.cfg'), config(dir, port));
    logFile = path.join(dir, 'logs', 'bmi.log');
    server = startServer({ BMI_CONFIG: path.join(dir, 'bmi.cfg') }, undefined, logFile);
    await waitFor(server, 'serving on');
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server?.proc.kill('SIGTERM');
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs JSON lines to [logs] path: one access line per request, with the request id it echoes', async () => {
    const given = await call(`${url}/v1/projects`, { user: ADMIN, headers: { 'X-Request-Id': 'trace-42.a' } });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('trace-42.a');
    // an id that is not a plain token is replaced by a fresh one
    const odd = await call(`${url}/version`, { headers: { 'X-Request-Id': 'has spaces; and "quotes"' } });
    const fresh = odd.headers.get('x-request-id')!;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await call(`${url}/v1/projects/proj1`, { user: { username: 'alice', password: 'n0t-her-secret' } });
    expect(refused.status).toBe(401);
    const refusedId = refused.headers.get('x-request-id')!;

    const access = await until('the access lines', () => {
      const lines = logLines(logFile).filter((l) => l.req && l.res);
      return lines.some((l) => (l.req as { id: string }).id === refusedId) ? lines : undefined;
    });
    const line = (id: string) => access.filter((l) => (l.req as { id: string }).id === id);
    expect(line('trace-42.a')).toHaveLength(1);
    expect(line('trace-42.a')[0]).toMatchObject({
      level: 30,
      reqId: 'trace-42.a',
      user: 'admin',
      req: { method: 'GET', url: '/v1/projects' },
      res: { status: 200 },
    });
    expect(typeof line('trace-42.a')[0].ms).toBe('number');
    expect(line(fresh)).toHaveLength(1);
    expect(line(refusedId)[0]).toMatchObject({
      user: 'alice',
      code: 'HIL_AUTHENTICATION_FAILED',
      res: { status: 401 },
    });
    // no credentials anywhere in the logs, nor colour codes
    const text = readFileSync(logFile, 'utf8');
    expect(text).not.toContain('n0t-her-secret');
    expect(text).not.toContain('Basic ');
    expect(text).not.toContain('\u001b[');
  });

  it('answers liveness, readiness and version without credentials', async () => {
    const live = await call(`${url}/healthz`);
    expect([live.status, JSON.parse(live.text)]).toEqual([200, { status: 'ok' }]);
    const ready = await call(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.text) as { status: string; checks: Record<string, { ok: boolean; ms: number }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['ceph', 'database', 'iscsi']);
    for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
    const version = JSON.parse((await call(`${url}/version`)).text) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ version: pkg.version, node: process.version });
    expect(Date.parse(String(version.started))).toBeLessThanOrEqual(Date.now());
    expect((await call(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('serves metrics in the Prometheus format: requests by route template, operations and their steps', async () => {
    expect((await call(`${url}/v1/projects`, { method: 'POST', user: ADMIN, body: { name: 'proj1' } })).status).toBe(
      201,
    );
    const op = await call(`${url}/v1/projects/proj1/images/import`, {
      method: 'POST',
      user: ADMIN,
      body: { source: 'golden' },
    });
    expect(op.status).toBe(202);
    const opId = (JSON.parse(op.text) as { id: string }).id;
    for (let i = 0; i < 100; i++) {
      const o = JSON.parse((await call(`${url}/v1/projects/proj1/operations/${opId}`, { user: ADMIN })).text) as {
        state: string;
      };
      if (o.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const disk = await call(`${url}/v1/projects/proj1/disks`, {
      method: 'POST',
      user: ALICE,
      body: { name: 'web1', image: 'golden' },
    });
    expect(disk.status).toBe(201);
    const taken = await call(`${url}/v1/projects/proj1/disks`, {
      method: 'POST',
      user: ALICE,
      body: { name: 'web1', image: 'golden' },
    });
    expect(taken.status).toBe(409);

    const scrape = await call(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; .*version=0\.0\.4/);
    const m = parsePrometheus(scrape.text);
    expect(m.types.get('bmi_http_requests_total')).toBe('counter');
    expect(m.types.get('bmi_http_request_duration_seconds')).toBe('histogram');
    // routes are templates, never the names a client sent
    const disks = { method: 'POST', route: '/v1/projects/:project/disks' };
    expect(total(m, 'bmi_http_requests_total', { ...disks, status: '201' })).toBe(1);
    expect(total(m, 'bmi_http_requests_total', { ...disks, status: '409' })).toBe(1);
    expect(samples(m, 'bmi_http_requests_total').some((s) => s.labels.route.includes('proj1'))).toBe(false);
    // histogram buckets only grow, and +Inf is the count
    const buckets = samples(m, 'bmi_http_request_duration_seconds_bucket', { ...disks, status: '201' });
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: 1 });
    // operations by kind, and their steps
    expect(total(m, 'bmi_operation_duration_seconds_count', { kind: 'import_image', outcome: 'done' })).toBe(1);
    expect(total(m, 'bmi_operation_duration_seconds_count', { kind: 'create_disk', outcome: 'done' })).toBe(1);
    expect(samples(m, 'bmi_operation_step_duration_seconds_count', { kind: 'create_disk' }).length).toBeGreaterThan(1);
    expect(total(m, 'bmi_operations_in_flight')).toBe(0);
    expect(m.types.get('bmi_operations_failed_total')).toBe('counter');
    expect(m.types.get('bmi_reconcile_drift')).toBe('gauge');
    // the process's own
    expect(total(m, 'bmi_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('sends standard security headers and no X-Powered-By', async () => {
    for (const p of ['/healthz', '/v1/projects', '/list_images/', '/docs/']) {
      const r = await call(`${url}${p}`);
      expect([p, r.headers.get('x-powered-by')]).toEqual([p, null]);
      expect([p, r.headers.get('x-content-type-options')]).toEqual([p, 'nosniff']);
      expect([p, r.headers.get('x-frame-options')]).toEqual([p, 'SAMEORIGIN']);
      expect([p, r.headers.get('referrer-policy')]).toEqual([p, 'no-referrer']);
      expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
  });

  it('creates the SQLite file readable by its owner only', () => {
    expect(statSync(path.join(dir, 'bmi.db')).mode & 0o777).toBe(0o600);
  });

  it('reopens its log file on SIGHUP, so that logrotate can move it away', async () => {
    renameSync(logFile, `${logFile}.1`);
    server.proc.kill('SIGHUP');
    // the signal arrives asynchronously: a request sent before the reopen may still land in the old file
    await new Promise((r) => setTimeout(r, 200));
    const r = await call(`${url}/version`, { headers: { 'X-Request-Id': 'after-rotation' } });
    expect(r.status).toBe(200);
    await until('a line in the new file', () =>
      logLines(logFile).some((l) => l.reqId === 'after-rotation') ? true : undefined,
    );
    expect(readFileSync(`${logFile}.1`, 'utf8')).not.toContain('after-rotation');
    // probes are logged at debug only: they come every few seconds
    expect(readFileSync(logFile, 'utf8')).not.toContain('"url":"/healthz"');
    // the process is still serving: SIGHUP no longer stops it
    expect(server.proc.exitCode).toBeNull();
  });

  // last: it blocks this test's address
  it('throttles refused logins: past the limit, 429 with Retry-After on both faces, before the password is checked', async () => {
    const guess = (n: number) => ({ username: 'alice', password: `guess-${n}` });
    const statuses: number[] = [];
    // the default limits: 10 refusals from one address (one was the first test's), and the next one blocks it
    // for 300 s
    for (let n = 0; n < 10; n++) statuses.push((await call(`${url}/v1/projects/proj1`, { user: guess(n) })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const v1 = await call(`${url}/v1/projects/proj1`, { user: guess(99) });
    expect(v1.status).toBe(429);
    expect(JSON.parse(v1.text)).toMatchObject({ code: 'TOO_MANY_FAILED_LOGINS' });
    expect(Number(v1.headers.get('retry-after'))).toBeGreaterThan(290);
    const legacy = await call(`${url}/list_images/`, { method: 'POST', user: guess(100), body: { project: 'proj1' } });
    expect(legacy.status).toBe(429);
    expect(legacy.text).toMatch(/^too many failed logins: try again in \d+ s$/);
    expect(Number(legacy.headers.get('retry-after'))).toBeGreaterThan(290);
    // credentials checked within [net_isolator] cache_seconds (60 s here) are not checked again
    expect((await call(`${url}/v1/projects/proj1`, { user: ALICE })).status).toBe(200);
    const m = parsePrometheus((await call(`${url}/metrics`)).text);
    expect(total(m, 'bmi_login_failures_total', { outcome: 'refused' })).toBe(11); // with the first test's
    expect(total(m, 'bmi_login_failures_total', { outcome: 'throttled' })).toBe(2);
  });
});
