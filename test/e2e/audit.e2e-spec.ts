/**
 * The audit trail: one record per mutation on both faces (successes, failures and refused callers), none for
 * reads, with the journaled operation of the requests that ran one; readable by admins only, filtered and paged.
 */
import { Logger } from '@nestjs/common';
import { basicAuthHeader } from '../../src/common/http/basic-auth';
import type { Credentials } from '../../src/common/auth/caller';
import { DataSource } from 'typeorm';
import { AuditRecordEntity } from '../../src/modules/audit/audit-record.entity';
import { AuditService } from '../../src/modules/audit/audit.service';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../utils/test-app';

const P = 'proj1';
let t: TestApp;

const as = (c: Credentials) => ({ Authorization: basicAuthHeader(c) });

interface Record {
  id: number;
  actor: string;
  project: string | null;
  action: string;
  route: string;
  resource: { [name: string]: string };
  status: number;
  result: string;
  operation: string | null;
  request_id: string;
  client: string | null;
}

/** The records written since `after` (an id), oldest first. */
async function since(after: number): Promise<Record[]> {
  const r = await t.http().get('/v1/audit?limit=1000').set(as(ADMIN));
  expect(r.status).toBe(200);
  return (r.body.items as Record[]).filter((x) => x.id > after).reverse();
}

async function lastId(): Promise<number> {
  const r = await t.http().get('/v1/audit?limit=1').set(as(ADMIN));
  return (r.body.items as Record[])[0]?.id ?? 0;
}

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp();
  expect((await t.http().post('/v1/projects').set(as(ADMIN)).send({ name: P })).status).toBe(201);
  expect((await t.http().put('/import_image').set(as(ADMIN)).send({ project: P, img: 'bmi_test' })).status).toBe(200);
});
afterAll(() => t.close());

describe('the audit trail', () => {
  it('records each mutation of the original routes, and none of their reads', async () => {
    const from = await lastId();
    const legacy = (path: string, method: 'put' | 'delete' | 'post', body: object, c = ALICE) => {
      const http = t.http();
      return http[method](path)
        .set(as(c))
        .set('X-Request-Id', `req-${path.slice(1)}`)
        .send(body);
    };
    expect((await legacy('/create_disk', 'put', { project: P, disk_name: 'd1', img: 'bmi_test' })).status).toBe(200);
    expect((await legacy('/list_disks', 'post', { project: P })).status).toBe(200);
    expect(
      (await legacy('/provision', 'put', { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth0' })).status,
    ).toBe(200);
    expect((await legacy('/deprovision', 'delete', { project: P, node: 'node-01', nic: 'eth0' })).status).toBe(200);
    expect((await legacy('/create_disk', 'put', { project: P, disk_name: 'd1', img: 'bmi_test' })).status).toBe(409);
    expect((await legacy('/delete_disk', 'delete', { project: P, disk_name: 'd1' })).status).toBe(200);
    expect((await legacy('/reconcile', 'post', { project: 'bmi_infra' }, ADMIN)).status).toBe(200);

    const rows = await since(from);
    expect(rows.map((r) => [r.action, r.route, r.status, r.result])).toEqual([
      ['createDisk', 'PUT /create_disk', 200, 'ok'],
      ['provisionNode', 'PUT /provision', 200, 'ok'],
      ['deprovisionNode', 'DELETE /deprovision', 200, 'ok'],
      ['createDisk', 'PUT /create_disk', 409, 'DISK_EXISTS'],
      ['deleteDisk', 'DELETE /delete_disk', 200, 'ok'],
      ['reconcile', 'POST /reconcile', 200, 'ok'],
    ]);
    expect(rows[0]).toMatchObject({
      actor: 'alice',
      project: P,
      resource: { disk_name: 'd1', img: 'bmi_test' },
      request_id: 'req-create_disk',
      client: expect.stringMatching(/127\.0\.0\.1/),
    });
    // create_disk is a journaled operation: its record names it, and the operation names the same actor
    expect(rows[0].operation).toMatch(/^[0-9a-f-]{36}$/);
    const op = await t.http().get(`/v1/projects/${P}/operations/${rows[0].operation}`).set(as(ALICE));
    expect(op.body).toMatchObject({ kind: 'create_disk', actor: 'alice', state: 'done' });
    expect(rows[1].resource).toEqual({ node: 'node-01', disk_name: 'd1', nic: 'eth0' });
  });

  it('records /v1 mutations, 202 operations with their id, and callers refused before anything ran', async () => {
    const from = await lastId();
    const imported = await t.http().post(`/v1/projects/${P}/images/import`).set(as(ADMIN)).send({ source: 'centos7' });
    expect(imported.status).toBe(202);
    expect((await t.http().get(`/v1/projects/${P}/images`).set(as(ALICE))).status).toBe(200);
    const wrong = { username: 'alice', password: 'not-alices' };
    expect((await t.http().delete(`/v1/projects/${P}/disks/d9`).set(as(wrong))).status).toBe(401);
    expect((await t.http().delete(`/v1/projects/${P}/disks/d9`).set(as(BOB))).status).toBe(401);
    expect((await t.http().post('/v1/projects').set(as(ALICE)).send({ name: 'p9' })).status).toBe(403);
    expect((await t.http().post(`/v1/projects/${P}/disks`).set(as(ALICE)).send({ name: '../x' })).status).toBe(400);

    const rows = await since(from);
    expect(rows.map((r) => [r.actor, r.action, r.status, r.result])).toEqual([
      ['admin', 'importImage', 202, 'ok'],
      ['alice', 'deleteDisk', 401, 'HIL_AUTHENTICATION_FAILED'],
      ['bob', 'deleteDisk', 401, 'HIL_AUTHENTICATION_FAILED'],
      ['alice', 'createProject', 403, 'ADMIN_REQUIRED'],
      ['alice', 'createDisk', 400, 'BAD_REQUEST'],
    ]);
    expect(rows[0].operation).toBe(imported.body.id);
    expect(rows[0].resource).toEqual({ source: 'centos7' });
    expect(rows[1]).toMatchObject({ project: P, resource: { disk: 'd9' }, operation: null });
    // what a body holds besides names never reaches the record
    expect(JSON.stringify(rows)).not.toContain('not-alices');
  });

  it('keeps no password, even of the user-management routes', async () => {
    const from = await lastId();
    await t
      .http()
      .put('/change_password')
      .set(as(ADMIN))
      .send({ project: 'bmi_infra', user: 'x', new_password: 'S3cr3t!' });
    const rows = await since(from);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('S3cr3t!');
  });

  it('keeps records [logs] audit_days: older ones are deleted', async () => {
    const repo = t.app.get(DataSource).getRepository(AuditRecordEntity);
    const old = { at: Date.now() - 366 * 86_400_000, actor: 'ghost', project: P, action: 'createDisk' };
    await repo.insert({
      ...old,
      route: 'PUT /create_disk',
      resource: '{}',
      status: 200,
      result: 'ok',
      operationId: null,
      requestId: 'r',
      client: null,
    });
    (t.app.get(AuditService) as unknown as { purgedAt: number }).purgedAt = 0;
    await t.http().delete(`/v1/projects/${P}/disks/nope`).set(as(ALICE));
    expect(await repo.countBy({ actor: 'ghost' })).toBe(0);
  });

  it('is for admins, filtered by project, actor and action, and paged newest first', async () => {
    expect((await t.http().get('/v1/audit').set(as(ALICE))).status).toBe(403);
    const byAlice = await t.http().get('/v1/audit?actor=alice&action=createDisk').set(as(ADMIN));
    expect(byAlice.body.items.length).toBeGreaterThanOrEqual(3);
    expect(byAlice.body.items.every((r: Record) => r.actor === 'alice' && r.action === 'createDisk')).toBe(true);
    const inProject = await t.http().get(`/v1/audit?project=${P}&limit=1000`).set(as(ADMIN));
    expect(inProject.body.items.every((r: Record) => r.project === P)).toBe(true);
    // pages neither repeat nor skip
    const all = (await t.http().get('/v1/audit?limit=1000').set(as(ADMIN))).body.items as Record[];
    const paged: Record[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await t.http().get(`/v1/audit?limit=3${q}`).set(as(ADMIN));
      paged.push(...(page.body.items as Record[]));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(paged.map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect((await t.http().get('/v1/audit?cursor=bogus').set(as(ADMIN))).status).toBe(400);
    expect((await t.http().get('/v1/audit?action=drop%20table').set(as(ADMIN))).status).toBe(400);
  });
});
