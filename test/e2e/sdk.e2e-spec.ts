/**
 * Every /v1 operation through the generated SDK (@bmi/client) against the app listening on a port: what a new
 * client sees, typed errors included. The last test checks that none of the SDK's operations went untried.
 */
import { Logger } from '@nestjs/common';
import * as bmi from '@bmi/client';
import { BmiApiError, createBmiClient, unwrap, waitForOperation } from '@bmi/client';
import type { AddressInfo } from 'node:net';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import { quickstart } from '../../packages/client/examples/quickstart';
import { SeenAnswer, undocumented } from '../utils/documented';
import { buildOpenApi } from '../../src/common/openapi/use-swagger';

const P = 'proj1';
let t: TestApp;
let admin: bmi.Client;
let alice: bmi.Client;
let baseUrl: string;
const tried = new Set<string>();
const seen: SeenAnswer[] = [];
export const STANDALONE = [
  'listUsers',
  'createUser',
  'deleteUser',
  'changePassword',
  'grantProject',
  'revokeProject',
  'listNodes',
  'registerNode',
  'deleteNode',
  'addNic',
  'removeNic',
  'connectNode',
  'detachNode',
  'setNodeBmc',
  'deleteNodeBmc',
];

/** An SDK operation, counted as tried. */
function op<K extends keyof typeof bmi>(name: K): (typeof bmi)[K] {
  tried.add(name);
  return bmi[name];
}

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp();
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  // every answer is recorded, and checked against the document at the end
  const recording = (async (input: Request) => {
    const res = await fetch(input);
    seen.push({ method: input.method, path: new URL(input.url).pathname, status: res.status });
    return res;
  }) as unknown as typeof fetch;
  admin = createBmiClient({ baseUrl, ...ADMIN, fetch: recording });
  alice = createBmiClient({ baseUrl, ...ALICE, timeoutMs: 30_000, fetch: recording });
});
afterAll(async () => {
  await t.close();
  jest.restoreAllMocks();
});

async function launched(answer: Promise<{ data?: bmi.Operation; error?: unknown }>): Promise<bmi.Operation> {
  const started = await unwrap(answer);
  expect(started.state === 'running' || started.state === 'done').toBe(true);
  return waitForOperation(admin, started.project!, started.id, { intervalMs: 10 });
}

describe('the SDK', () => {
  it('projects: create, list, get; errors are BmiApiError with the code', async () => {
    expect(await unwrap(op('createProject')({ client: admin, body: { name: P } }))).toEqual({
      id: expect.any(Number),
      name: P,
    });
    await unwrap(op('createProject')({ client: admin, body: { name: 'doomed' } }));
    const page = await unwrap(op('listProjects')({ client: admin, query: { limit: 10 } }));
    expect(page.items.map((p) => p.name)).toEqual(expect.arrayContaining([P, 'doomed']));
    expect(await unwrap(op('getProject')({ client: alice, path: { project: P } }))).toMatchObject({ name: P });
    await unwrap(op('deleteProject')({ client: admin, path: { project: 'doomed' } }));
    const error = await unwrap(op('getProject')({ client: admin, path: { project: 'doomed' } })).catch((e) => e);
    expect(error).toBeInstanceOf(BmiApiError);
    expect([error.status, error.code]).toEqual([404, 'PROJECT_NOT_FOUND']);
  });

  it('images: import (an operation with progress), list, get, copy, move, export, mount, remove', async () => {
    const imported = await launched(
      op('importImage')({ client: admin, path: { project: P }, body: { source: 'bmi_test' } }),
    );
    expect(imported.state).toBe('done');
    const golden = await unwrap(op('listImages')({ client: alice, path: { project: P }, query: { kind: 'golden' } }));
    expect(golden.items.map((i) => i.name)).toEqual(['bmi_test']);
    expect(await unwrap(op('getImage')({ client: alice, path: { project: P, image: 'bmi_test' } }))).toMatchObject({
      kind: 'golden',
    });
    const copied = await launched(
      op('copyImage')({ client: alice, path: { project: P, image: 'bmi_test' }, body: { name: 'copy1' } }),
    );
    expect(copied.progress).toEqual({
      step: expect.stringMatching(/^flatten /),
      done: 1,
      total: 1,
      rate: null,
      eta_seconds: null,
    });
    const moved = await unwrap(
      op('moveImage')({ client: alice, path: { project: P, image: 'copy1' }, body: { name: 'copy2' } }),
    );
    expect(moved.name).toBe('copy2');
    const exported = await launched(
      op('exportImage')({ client: admin, path: { project: P, image: 'copy2' }, body: { name: 'copy2-raw' } }),
    );
    expect(exported.state).toBe('done');
    const target = await unwrap(op('mountImage')({ client: admin, path: { project: P, image: 'copy2' } }));
    expect(target.iscsi.uri).toMatch(/^iscsi:10\.0\.0\.1:tcp:3260:1:/);
    await unwrap(op('umountImage')({ client: admin, path: { project: P, image: 'copy2' } }));
    await unwrap(op('removeImage')({ client: alice, path: { project: P, image: 'copy2' } }));
  });

  it('disks, snapshots, boot, node IP and operations', async () => {
    const disk = await unwrap(
      op('createDisk')({ client: alice, path: { project: P }, body: { name: 'web1', image: 'bmi_test' } }),
    );
    expect(disk.iscsi.target).toMatch(/^5img\d+$/);
    expect((await unwrap(op('listDisks')({ client: alice, path: { project: P } }))).items).toHaveLength(1);
    expect(await unwrap(op('getDisk')({ client: alice, path: { project: P, disk: 'web1' } }))).toEqual(disk);
    const snap = await launched(
      op('createSnapshot')({ client: alice, path: { project: P, disk: 'web1' }, body: { name: 'snap1' } }),
    );
    expect(snap.state).toBe('done');
    const boot = await unwrap(
      op('putBoot')({ client: alice, path: { project: P, node: 'node-01' }, body: { disk: 'web1', nic: 'eth0' } }),
    );
    expect(await unwrap(op('getBoot')({ client: alice, path: { project: P, node: 'node-01' } }))).toEqual(boot);
    const noIp = await unwrap(op('getNodeIp')({ client: alice, path: { project: P, node: 'node-01' } })).catch(
      (e) => e,
    );
    expect([noIp.status, noIp.code]).toEqual([404, 'NO_LEASE']);
    await unwrap(op('deleteBoot')({ client: alice, path: { project: P, node: 'node-01' } }));
    await unwrap(op('deleteDisk')({ client: alice, path: { project: P, disk: 'web1' } }));
    const ops = await unwrap(op('listOperations')({ client: alice, path: { project: P }, query: { limit: 3 } }));
    expect(ops.items.map((o) => o.kind)).toEqual(['delete_disk', 'deprovision', 'provision']);
    expect(ops.next_cursor).not.toBeNull();
    const one = await unwrap(op('getOperation')({ client: alice, path: { project: P, operation: ops.items[0].id } }));
    expect(one.state).toBe('done');
    const all = await unwrap(op('listAllOperations')({ client: admin, query: { state: 'done', limit: 1000 } }));
    expect(all.items.length).toBeGreaterThan(5);
  });

  it('an upload: announced, its data in two parts, resumed from where BMI says; another cancelled', async () => {
    const data = Buffer.from('golden image bytes, raw');
    const started = await unwrap(
      op('uploadImage')({
        client: alice,
        path: { project: P },
        body: { name: 'uploaded', format: 'raw', size: data.length },
      }),
    );
    const part = (offset: number, end: number) =>
      unwrap(
        op('sendUploadData')({
          client: alice,
          path: { project: P, image: 'uploaded' },
          headers: { 'Upload-Offset': String(offset) },
          body: new Blob([data.subarray(offset, end)]),
        }),
      );
    expect((await part(0, 10)).received).toBe(10);
    const at = await unwrap(op('getUpload')({ client: alice, path: { project: P, image: 'uploaded' } }));
    expect(at).toEqual({ image: 'uploaded', format: 'raw', size: data.length, received: 10, operation: started.id });
    expect((await part(at.received, data.length)).received).toBe(data.length);
    expect((await waitForOperation(alice, P, started.id, { intervalMs: 10 })).state).toBe('done');
    await unwrap(op('removeImage')({ client: alice, path: { project: P, image: 'uploaded' } }));

    const other = await unwrap(
      op('uploadImage')({ client: alice, path: { project: P }, body: { name: 'dropped', format: 'raw', size: 5 } }),
    );
    await unwrap(op('cancelUpload')({ client: alice, path: { project: P, image: 'dropped' } }));
    expect((await waitForOperation(alice, P, other.id, { intervalMs: 10 })).state).toBe('rolled_back');
  });

  it("a node's power, and a node deployed from an image and released in one call each", async () => {
    const on = await unwrap(
      op('setNodePower')({ client: alice, path: { project: P, node: 'node-01' }, body: { action: 'on' } }),
    );
    expect(on).toEqual({ node: 'node-01', state: 'on' });
    expect(await unwrap(op('getNodePower')({ client: alice, path: { project: P, node: 'node-01' } }))).toEqual(on);
    const deployed = await launched(
      op('deployNode')({
        client: alice,
        path: { project: P, node: 'node-01' },
        body: { image: 'bmi_test', disk: 'web2' },
      }),
    );
    expect([deployed.kind, deployed.state]).toEqual(['deploy', 'done']);
    expect(await unwrap(op('getDeployment')({ client: alice, path: { project: P, node: 'node-01' } }))).toMatchObject({
      node: 'node-01',
      disk: 'web2',
      image: 'bmi_test',
      nic: 'eth0',
      attached: false,
      ip: null,
    });
    const released = await launched(op('releaseNode')({ client: alice, path: { project: P, node: 'node-01' } }));
    expect([released.kind, released.state]).toEqual(['release', 'done']);
    const gone = await unwrap(op('getDeployment')({ client: alice, path: { project: P, node: 'node-01' } })).catch(
      (e) => e,
    );
    expect([gone.status, gone.code]).toEqual([404, 'NOT_PROVISIONED']);
    expect(await unwrap(op('getNodePower')({ client: alice, path: { project: P, node: 'node-01' } }))).toEqual({
      node: 'node-01',
      state: 'off',
    });
  });

  it('admin: every image record, records alone, targets, reconcile', async () => {
    const made = await unwrap(
      op('addImageRecord')({ client: admin, path: { project: P }, body: { name: 'row1', parent: 'bmi_test' } }),
    );
    expect(made).toMatchObject({ name: 'row1', project: P, kind: 'disk', parent: 'bmi_test' });
    const rows = await unwrap(op('listImageRecords')({ client: admin, query: { project: P, kind: 'disk' } }));
    expect(rows.items.map((r) => r.name)).toEqual(['row1']);
    await unwrap(op('deleteImageRecord')({ client: admin, path: { project: P, image: 'row1' } }));
    await unwrap(op('mountImage')({ client: admin, path: { project: P, image: 'bmi_test' } }));
    const targets = await unwrap(op('listTargets')({ client: admin, path: { project: P } }));
    expect(targets.items.map((x) => x.image)).toEqual(['bmi_test']);
    await unwrap(op('umountImage')({ client: admin, path: { project: P, image: 'bmi_test' } }));
    const report = await unwrap(op('reconcile')({ client: admin, body: {} }));
    expect(report).toMatchObject({ fixed: false, drift: [] });
  });

  it('standalone routes answer 409 STANDALONE_MODE_OFF with HIL', async () => {
    const off = await unwrap(op('listUsers')({ client: admin })).catch((e) => e);
    expect([off.status, off.code]).toEqual([409, 'STANDALONE_MODE_OFF']);
  });

  it('left one audit record per mutation it sent, with the status it got, for admins only', async () => {
    const mutations = seen.filter((a) => a.method !== 'GET');
    const records: bmi.AuditRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(op('listAudit')({ client: admin, query: { limit: 7, cursor } }));
      records.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(mutations.length).toBeGreaterThanOrEqual(20);
    const key = (method: string, status: number) => `${method} ${status}`;
    expect(records.map((r) => key(r.route.split(' ')[0], r.status)).sort()).toEqual(
      mutations.map((m) => key(m.method, m.status)).sort(),
    );
    // newest first, each with who, what and how it ended
    expect(records.map((r) => r.id)).toEqual([...records.map((r) => r.id)].sort((a, b) => b - a));
    const disk = records.find((r) => r.action === 'createDisk' && r.status === 201)!;
    expect(disk).toMatchObject({ actor: 'alice', project: P, result: 'ok', route: 'POST /v1/projects/:project/disks' });
    expect(disk.resource).toMatchObject({ name: expect.any(String) });
    expect(records.filter((r) => r.status === 202).every((r) => r.operation !== null)).toBe(true);
    const filtered = await unwrap(op('listAudit')({ client: admin, query: { actor: 'alice', action: 'createDisk' } }));
    expect(filtered.items.length).toBeGreaterThan(0);
    expect(filtered.items.every((r) => r.actor === 'alice' && r.action === 'createDisk')).toBe(true);
    const refused = await unwrap(op('listAudit')({ client: alice })).catch((e: unknown) => e);
    expect((refused as bmi.BmiApiError).status).toBe(403);
  });

  it("runs the README's example (packages/client/examples/quickstart.ts)", async () => {
    const lines: string[] = [];
    await quickstart(baseUrl, (line) => lines.push(line));
    expect(lines.filter((l) => !l.startsWith('running'))).toEqual([
      'done 1',
      'import done',
      expect.stringMatching(/^disk web1 at iscsi:10\.0\.0\.1:tcp:3260:1:5img\d+$/),
      'web1 is there already',
    ]);
  });

  it('got only answers the document lists for their routes', () => {
    expect(seen.length).toBeGreaterThan(40);
    expect(undocumented(buildOpenApi(t.app), seen, () => false)).toEqual([]);
  });

  it('has been tried on every /v1 operation', () => {
    const operations = Object.entries(bmi)
      .filter(([name, value]) => typeof value === 'function' && /^[a-z]/.test(name))
      .map(([name]) => name)
      .filter((name) => !['createBmiClient', 'unwrap', 'waitForOperation', 'basicAuthorization'].includes(name));
    // the standalone ones: test/e2e/standalone-sdk.e2e-spec.ts
    expect(operations.filter((name) => !tried.has(name) && !STANDALONE.includes(name))).toEqual([]);
  });
});
