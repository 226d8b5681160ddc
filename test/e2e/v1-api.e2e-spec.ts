/**
 * The /v1 face over HTTP: JSON errors with their codes, resources under the project, long operations as 202
 * with an operation to poll, Idempotency-Key, pagination, ETag and If-Match.
 */
import { Logger } from '@nestjs/common';
import { basicAuthHeader } from '../../src/common/http/basic-auth';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../utils/test-app';
import type { Credentials } from '../../src/common/auth/caller';
import { SeenAnswer, undocumented } from '../utils/documented';
import { DataSource } from 'typeorm';
import { etagOf } from '../../src/common/http/resources';
import { IdempotencyKeyEntity } from '../../src/common/http/idempotency.entity';
import { ABANDONED_MS, requestDigest } from '../../src/common/http/idempotency';
import { buildOpenApi } from '../../src/common/openapi/use-swagger';

const P = 'proj1';
let t: TestApp;

/** every answer of a /v1 route in this file, checked against the document at the end */
const seen: SeenAnswer[] = [];

/** A request, whose answer is recorded in `seen`. */
function send(method: 'get' | 'post' | 'put' | 'delete' | 'patch', path: string, c?: Credentials) {
  const req = t.http()[method](path);
  if (c) req.set(as(c));
  req.on('response', (res: { status: number }) => seen.push({ method, path, status: res.status }));
  return req;
}
const as = (c: Credentials) => ({ Authorization: basicAuthHeader(c) });
const get = (path: string, c: Credentials = ALICE) => send('get', path, c);
const post = (path: string, body: object, c: Credentials = ALICE) => send('post', path, c).send(body);
const put = (path: string, body: object, c: Credentials = ALICE) => send('put', path, c).send(body);
const del = (path: string, c: Credentials = ALICE) => send('delete', path, c);

/** Polls the operation until it is no longer running; returns it. */
async function settle(location: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500; i++) {
    const r = await get(location, ADMIN);
    expect(r.status).toBe(200);
    if (r.body.state !== 'running') return r.body as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`operation ${location} still running`);
}

async function importGolden(name: string): Promise<void> {
  const r = await post(`/v1/projects/${P}/images/import`, { source: name }, ADMIN);
  expect(r.status).toBe(202);
  expect((await settle(r.headers.location)).state).toBe('done');
}

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp();
  expect((await post('/v1/projects', { name: P }, ADMIN)).status).toBe(201);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

describe('errors', () => {
  it('no credentials: 401 JSON with a Basic challenge (the legacy routes keep their 400)', async () => {
    const r = await send('get', `/v1/projects/${P}/images`);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="BMI", charset="UTF-8"');
    expect(r.body).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String), details: {} });
    expect((await t.http().post('/list_images').send({ project: P })).status).toBe(400);
    // a page's script (Swagger UI) gets a challenge its browser does not turn into a login prompt
    const fromPage = await send('get', `/v1/projects/${P}/images`).set('X-Requested-With', 'XMLHttpRequest');
    expect(fromPage.headers['www-authenticate']).toBe('XBasic realm="BMI", charset="UTF-8"');
  });

  it('refused credentials, another project, an unknown project, an admin route: each its code and status', async () => {
    const wrong = await get(`/v1/projects/${P}/images`, { username: 'alice', password: 'nope' });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'HIL_AUTHENTICATION_FAILED']);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
    const other = await get(`/v1/projects/${P}/images`, BOB);
    expect([other.status, other.body.code]).toEqual([401, 'HIL_AUTHENTICATION_FAILED']);
    const unknown = await get('/v1/projects/nope/images');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'PROJECT_NOT_FOUND']);
    const admin = await get('/v1/projects');
    expect([admin.status, admin.body.code]).toEqual([403, 'ADMIN_REQUIRED']);
  });

  it('bad fields: 400 BAD_REQUEST with each field’s problem in details.fields; bad path names too', async () => {
    const r = await post(`/v1/projects/${P}/disks`, { name: '../x' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BAD_REQUEST');
    expect(Object.keys(r.body.details.fields).sort()).toEqual(['image', 'name']);
    const path = await get(`/v1/projects/${P}/nodes/a..b/boot`);
    expect([path.status, path.body.code, Object.keys(path.body.details.fields)]).toEqual([
      400,
      'BAD_REQUEST',
      ['node'],
    ]);
  });

  it('a wrong method: 405 JSON with Allow; an unknown /v1 path: 404 JSON', async () => {
    const r = await send('patch', `/v1/projects/${P}/disks/web1`, ALICE);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('DELETE, GET');
    expect(r.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { allow: ['DELETE', 'GET'] } });
    const none = await get('/v1/nothing');
    expect([none.status, none.body.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('projects', () => {
  it('admins add, list (paged) and delete; members read theirs; a taken name is 409 PROJECT_EXISTS', async () => {
    for (const name of ['a1', 'a2', 'a3']) expect((await post('/v1/projects', { name }, ADMIN)).status).toBe(201);
    const first = await get('/v1/projects?limit=2', ADMIN);
    expect(first.body.items.map((p: { name: string }) => p.name)).toEqual(['a1', 'a2']);
    const rest = await get(`/v1/projects?limit=2&cursor=${first.body.next_cursor}`, ADMIN);
    expect(rest.body.items.map((p: { name: string }) => p.name)).toEqual(['a3', 'bmi_infra']);
    expect((await get(`/v1/projects/${P}`)).body).toEqual({ id: expect.any(Number), name: P });
    const taken = await post('/v1/projects', { name: 'a1' }, ADMIN);
    expect([taken.status, taken.body.code]).toEqual([409, 'PROJECT_EXISTS']);
    expect((await del('/v1/projects/a1', ADMIN)).status).toBe(204);
    expect((await get('/v1/projects/a1', ADMIN)).body.code).toBe('PROJECT_NOT_FOUND');
  });

  it('a bad cursor is a 400, not a crash', async () => {
    const r = await get('/v1/projects?cursor=garbage', ADMIN);
    expect([r.status, r.body.code]).toEqual([400, 'BAD_REQUEST']);
  });
});

describe('images and disks', () => {
  it('import answers 202 with the operation to poll; the image is then listed by kind', async () => {
    const r = await post(`/v1/projects/${P}/images/import`, { source: 'bmi_test' }, ADMIN);
    expect(r.status).toBe(202);
    expect(r.headers.location).toBe(`/v1/projects/${P}/operations/${r.body.id}`);
    expect(r.body).toMatchObject({ kind: 'import_image', project: P });
    const op = await settle(r.headers.location);
    expect(op).toMatchObject({ state: 'done', error: null });
    const golden = await get(`/v1/projects/${P}/images?kind=golden`);
    expect(golden.body).toEqual({
      items: [{ name: 'bmi_test', kind: 'golden', parent: null, public: false, exported: false }],
      next_cursor: null,
    });
    expect((await get(`/v1/projects/${P}/images?kind=snapshot`)).body.items).toEqual([]);
  });

  it('a launch that fails before its operation starts answers the error itself (404, no operation)', async () => {
    const r = await post(`/v1/projects/${P}/images/import`, { source: 'not_in_pool' }, ADMIN);
    expect([r.status, r.body.code]).toEqual([404, 'RBD_IMAGE_NOT_FOUND']);
    expect(
      (await get('/v1/operations', ADMIN)).body.items.filter((o: { kind: string }) => o.kind === 'import_image'),
    ).toEqual([]);
  });

  it('disks: 201 with Location and the iSCSI endpoint; ETag honoured by If-Match; 404 after delete', async () => {
    await importGolden('bmi_test');
    const made = await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    expect(made.status).toBe(201);
    expect(made.headers.location).toBe(`/v1/projects/${P}/disks/web1`);
    expect(made.body).toEqual({
      name: 'web1',
      image: 'bmi_test',
      exported: true,
      iscsi: { target: '5img2', portal: '10.0.0.1:3260', lun: 1, uri: 'iscsi:10.0.0.1:tcp:3260:1:5img2' },
    });
    const read = await get(`/v1/projects/${P}/disks/web1`);
    expect(read.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(read.headers.etag).toBe(made.headers.etag);
    const stale = await del(`/v1/projects/${P}/disks/web1`).set('If-Match', '"other"');
    expect([stale.status, stale.body.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await get(`/v1/projects/${P}/disks`)).body.items).toHaveLength(1);
    expect((await del(`/v1/projects/${P}/disks/web1`).set('If-Match', read.headers.etag)).status).toBe(204);
    const gone = await get(`/v1/projects/${P}/disks/web1`);
    expect([gone.status, gone.body.code]).toEqual([404, 'IMAGE_NOT_FOUND']);
  });

  it('Idempotency-Key: a retry answers the first result without acting again; another body is a 422', async () => {
    await importGolden('bmi_test');
    const send = (name: string) =>
      post(`/v1/projects/${P}/disks`, { name, image: 'bmi_test' }).set('Idempotency-Key', 'key-1');
    const first = await send('web1');
    const again = await send('web1');
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    const other = await send('web2');
    expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // without the key, the same create is a conflict: the disk exists once
    const plain = await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    expect([plain.status, plain.body.code]).toEqual([409, 'DISK_EXISTS']);
    // another caller's key of the same name is theirs
    expect((await post('/v1/projects', { name: 'p9' }, ADMIN).set('Idempotency-Key', 'key-1')).status).toBe(201);
  });

  it('a first request unanswered for long (its instance died) leaves its key to the retry; a recent one is a 409', async () => {
    await importGolden('bmi_test');
    const body = { name: 'web1', image: 'bmi_test' };
    const path = `/v1/projects/${P}/disks`;
    const claim = (key: string, createdAt: number) =>
      t.app
        .get(DataSource)
        .getRepository(IdempotencyKeyEntity)
        .insert({
          actor: 'alice',
          key,
          request: requestDigest('POST', path, body),
          status: null,
          body: 'claim:x',
          location: null,
          createdAt,
        });
    await claim('recent', Date.now());
    const busy = await post(path, body).set('Idempotency-Key', 'recent');
    expect([busy.status, busy.body.code]).toEqual([409, 'CONFLICT']);
    await claim('abandoned', Date.now() - ABANDONED_MS - 1000);
    const retried = await post(path, body).set('Idempotency-Key', 'abandoned');
    expect(retried.status).toBe(201);
    expect((await post(path, body).set('Idempotency-Key', 'abandoned')).headers['idempotent-replayed']).toBe('true');
  });

  it('a kept answer goes to its caller only, with their password, while they have access', async () => {
    const made = await post('/v1/projects', { name: 'p9' }, ADMIN).set('Idempotency-Key', 'k9');
    expect(made.status).toBe(201);
    const wrong = await post('/v1/projects', { name: 'p9' }, { username: 'admin', password: 'WRONG' }).set(
      'Idempotency-Key',
      'k9',
    );
    expect([wrong.status, wrong.body.code, wrong.headers['idempotent-replayed']]).toEqual([
      401,
      'HIL_AUTHENTICATION_FAILED',
      undefined,
    ]);
    // a member who is not an admin: refused before the key is even looked at
    const member = await post('/v1/projects', { name: 'p9' }, ALICE).set('Idempotency-Key', 'k9');
    expect([member.status, member.body.code]).toEqual([403, 'ADMIN_REQUIRED']);
    const again = await post('/v1/projects', { name: 'p9' }, ADMIN).set('Idempotency-Key', 'k9');
    expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([201, 'true', made.body]);
  });

  it('keeps no password in the digest of a request', () => {
    const a = requestDigest('POST', '/v1/users', { name: 'alice', password: 'one' });
    expect(requestDigest('POST', '/v1/users', { name: 'alice', password: 'two' })).toBe(a);
    expect(requestDigest('POST', '/v1/users', { name: 'bob', password: 'one' })).not.toBe(a);
  });

  it('a failed first request leaves its key free: the retry runs', async () => {
    const send = () =>
      post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' }).set('Idempotency-Key', 'k2');
    expect((await send()).body.code).toBe('IMAGE_NOT_FOUND');
    await importGolden('bmi_test');
    expect((await send()).status).toBe(201);
  });

  it('a snapshot of a disk is an operation; it reports progress and makes a snapshot image', async () => {
    await importGolden('bmi_test');
    await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    const r = await post(`/v1/projects/${P}/disks/web1/snapshots`, { name: 'snap1' });
    expect(r.status).toBe(202);
    const op = await settle(r.headers.location);
    expect(op.state).toBe('done');
    expect(op.progress).toEqual({
      step: expect.stringMatching(/^flatten /),
      done: 1,
      total: 1,
      rate: null,
      eta_seconds: null,
    });
    expect((await get(`/v1/projects/${P}/images/snap1`)).body).toEqual({
      name: 'snap1',
      kind: 'snapshot',
      parent: 'bmi_test',
      public: false,
      exported: false,
    });
  });

  it('copy (202) and move (200) within the project; into another project needs an admin', async () => {
    await importGolden('bmi_test');
    const copy = await post(`/v1/projects/${P}/images/bmi_test/copy`, { name: 'copy1' });
    expect(copy.status).toBe(202);
    expect((await settle(copy.headers.location)).state).toBe('done');
    const moved = await post(`/v1/projects/${P}/images/copy1/move`, { name: 'copy2' });
    expect([moved.status, moved.body.name]).toEqual([200, 'copy2']);
    const elsewhere = await post(`/v1/projects/${P}/images/copy2/move`, { dest_project: 'proj2' });
    expect([elsewhere.status, elsewhere.body.code]).toEqual([403, 'ADMIN_REQUIRED']);
    expect((await del(`/v1/projects/${P}/images/copy2`)).status).toBe(204);
    // a disk is not one of the project's images: not moved through /images (404, as GET answers)
    await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    const disk = await post(`/v1/projects/${P}/images/web1/move`, { name: 'web9' });
    expect([disk.status, disk.body.code]).toEqual([404, 'IMAGE_NOT_FOUND']);
    expect((await get(`/v1/projects/${P}/disks/web1`)).status).toBe(200);
  });
});

describe('boot and operations', () => {
  it('PUT boot writes the boot files, GET reads them back, DELETE removes them', async () => {
    await importGolden('bmi_test');
    await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    const none = await get(`/v1/projects/${P}/nodes/node-01/boot`);
    expect([none.status, none.body.code]).toEqual([404, 'NOT_PROVISIONED']);
    const state = { node: 'node-01', disk: 'web1', nic: 'eth0', mac: '52:54:00:12:34:56', target: '5img2' };
    const booted = await put(`/v1/projects/${P}/nodes/node-01/boot`, { disk: 'web1', nic: 'eth0' });
    expect([booted.status, booted.body]).toEqual([200, state]);
    const read = await get(`/v1/projects/${P}/nodes/node-01/boot`);
    expect(read.body).toEqual(state);
    const free = await put(`/v1/projects/${P}/nodes/node-02/boot`, { disk: 'web1', nic: 'eth0' });
    expect([free.status, free.body.code]).toEqual([403, 'NODE_NOT_OWNED']);
    expect((await del(`/v1/projects/${P}/nodes/node-01/boot`).set('If-Match', read.headers.etag)).status).toBe(204);
    expect((await get(`/v1/projects/${P}/nodes/node-01/boot`)).status).toBe(404);
  });

  it('two changes sent from the same version at once: one applies, the other is a 412', async () => {
    await importGolden('bmi_test');
    await post(`/v1/projects/${P}/disks`, { name: 'web1', image: 'bmi_test' });
    await post(`/v1/projects/${P}/disks`, { name: 'web2', image: 'bmi_test' });
    // the version of "not provisioned": the tag of its absent state, as a 404 GET gives no ETag
    const unprovisioned = etagOf(null);
    const [a, b] = await Promise.all(
      ['web1', 'web2'].map((disk) =>
        put(`/v1/projects/${P}/nodes/node-01/boot`, { disk, nic: 'eth0' }).set('If-Match', unprovisioned),
      ),
    );
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const booted = await get(`/v1/projects/${P}/nodes/node-01/boot`);
    expect(booted.body.disk).toBe(a.status === 200 ? 'web1' : 'web2');
  });

  it('operations page newest first; a member sees the project’s, not another’s', async () => {
    await importGolden('bmi_test');
    for (const name of ['d1', 'd2', 'd3']) await post(`/v1/projects/${P}/disks`, { name, image: 'bmi_test' });
    const page1 = await get(`/v1/projects/${P}/operations?limit=2`);
    expect(page1.body.items.map((o: { args: { disk?: string } }) => o.args.disk)).toEqual(['d3', 'd2']);
    const page2 = await get(`/v1/projects/${P}/operations?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((o: { kind: string }) => o.kind)).toEqual(['create_disk', 'import_image']);
    expect(page2.body.next_cursor).toBeNull();
    const id = page1.body.items[0].id as string;
    const bob = await get(`/v1/projects/proj2/operations/${id}`, BOB);
    expect([bob.status]).toEqual([404]);
    const mine = (await get(`/v1/projects/${P}/operations/${id}`)).body;
    expect(mine.id).toBe(id);
    // a member sees the steps, not the actions that undo them; an admin sees those in /v1/operations
    expect(mine.steps.length).toBeGreaterThan(0);
    expect(mine.steps.some((step: { undo?: unknown }) => step.undo !== undefined)).toBe(false);
    const all = (await get('/v1/operations?limit=1', ADMIN)).body.items[0];
    expect(all.steps.some((step: { undo?: unknown }) => step.undo !== undefined)).toBe(true);
  });
});

describe('the document', () => {
  it('lists every status a /v1 route answered in this file, for that route', async () => {
    expect(seen.length).toBeGreaterThan(100);
    expect(new Set(seen.map((a) => a.status)).size).toBeGreaterThanOrEqual(10);
    const doc = buildOpenApi(t.app);
    // the wrong method and the unknown path are meant to be outside the document
    expect(undocumented(doc, seen, (a) => a.method === 'patch' || a.path === '/v1/nothing')).toEqual([]);
  });
});
