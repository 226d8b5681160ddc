/**
 * The whole BMI app over HTTP against the HIL-compatible server over HTTP ([driver] net_isolator = hil, the
 * real HttpHilClient; storage and iSCSI stay fake). HIL is seeded with config/hil-seed.json: admin/admin is
 * the HIL admin, alice/alicepass in proj1 which owns node-01 (eth0 52:54:00:12:34:56, eth1
 * 52:54:00:aB:cD:Ef), bob/bobpass in proj2, node-02 free. Every refusal leaves BMI's whole state (DB, pool,
 * targets, boot files) as it was. Provisioning against this server is test/e2e/provisioning's subject.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { startTestApp, TestApp, ADMIN, ALICE, BOB } from '../utils/test-app';
import {
  ADMIN_PROJECT,
  addProject,
  AppState,
  Body,
  call,
  captureState,
  createDisk,
  expectOk,
  expectText,
  HttpMethod,
  importImage,
} from '../utils/e2e';
import { RouteSpec, ROUTES } from '../utils/routes';
import { HilServer, startHil } from '../utils/hil-server';

const P1 = 'proj1';
const P2 = 'proj2';
const NO_ACCESS = 'You do not have access to the required project.';
const ADMIN_ROLE = 'User Does Not Have Admin Role';

const withHil = (url: string, more: NodeJS.ProcessEnv = {}) =>
  startTestApp({ env: { BMI_DRIVER_NET_ISOLATOR: 'hil', BMI_NET_ISOLATOR_URL: url, ...more } });

/** A body for `route` in proj1 with every required field, as a member of proj1 could send it. */
function proj1Body(route: RouteSpec): Body {
  const values: Record<string, string> = {
    project: P1,
    disk_name: 'd1',
    img: 'bmi_test',
    snap_name: 's9',
    node: 'node-01',
    nic: 'eth1',
    dest_project: P1,
    new_name: 'c9',
    name: 'proj9',
  };
  const body: Body = {};
  for (const f of route.fields.filter((x) => x.required)) {
    if (!(f.name in values)) throw new Error(`no value for ${route.name}.${f.name}`);
    body[f.name] = values[f.name];
  }
  return body;
}

describe('BMI against the HIL-compatible server', () => {
  let hil: HilServer;
  let t: TestApp;
  let before: AppState;

  beforeAll(async () => {
    hil = await startHil();
    t = await withHil(hil.url);
    await addProject(t, P1);
    await addProject(t, P2);
    await importImage(t, P1);
    await importImage(t, P2, 'centos7');
    await createDisk(t, ALICE, P1, 'd1');
    await createDisk(t, BOB, P2, 'd3', 'centos7');
  });
  afterAll(async () => {
    await t?.close();
    await hil?.close();
  });
  beforeEach(async () => {
    before = await captureState(t);
  });

  const projectRoutes = ROUTES.filter((r) => !r.admin).map((r) => [r.name, r] as const);
  const adminRoutes = ROUTES.filter((r) => r.admin).map((r) => [r.name, r] as const);

  it('covers every route of the API', () => {
    expect(projectRoutes.length + adminRoutes.length).toBe(ROUTES.length);
    expect(projectRoutes.length).toBeGreaterThan(8);
    expect(adminRoutes.length).toBeGreaterThan(8);
  });

  describe('a caller who is not in the project', () => {
    it.each(projectRoutes)('bob (proj2) gets 401 on %s in proj1, nothing changes', async (_n, route) => {
      await expectText(call(t, route.method, route.path, BOB, proj1Body(route)), 401, NO_ACCESS);
      expect(await captureState(t)).toEqual(before);
    });

    it.each(adminRoutes)('bob (proj2) is refused %s in proj1 (403: not an admin), nothing changes', async (_n, r) => {
      await expectText(call(t, r.method, r.path, BOB, proj1Body(r)), 403, ADMIN_ROLE);
      expect(await captureState(t)).toEqual(before);
    });
  });

  describe('credentials HIL does not accept', () => {
    const CALLERS = [
      ['a wrong password', { username: 'alice', password: 'bobpass' }],
      ['an unknown user (HIL says 404)', { username: 'mallory', password: 'alicepass' }],
    ] as const;
    const cases = CALLERS.flatMap(([who, creds]) => ROUTES.map((r) => [who, r.name, creds, r] as const));

    it.each(cases)('%s on %s: 401, not 404, nothing changes', async (_who, _n, creds, route) => {
      const res = await call(t, route.method, route.path, creds, proj1Body(route));
      expect({ status: res.status, type: res.headers['content-type'] }).toEqual({
        status: 401,
        type: expect.stringMatching(/^text\/plain/),
      });
      expect(res.text).toMatch(/^Authentication [Ff]ailed/);
      expect(res.text).not.toMatch(/alicepass|bobpass/);
      expect(await captureState(t)).toEqual(before);
    });
  });

  describe('admin operations', () => {
    /** Each admin operation with a body the admin may run, in an order in which all of them succeed. */
    const ADMIN_OPS: [string, HttpMethod, string, Body][] = [
      ['list_projects', 'post', '/list_projects/', { project: ADMIN_PROJECT }],
      ['add_project', 'put', '/add_project/', { project: ADMIN_PROJECT, name: 'proj3' }],
      ['delete_project', 'delete', '/delete_project/', { project: ADMIN_PROJECT, name: 'proj3' }],
      ['list_all_images', 'post', '/list_all_images/', { project: P1 }],
      ['import_image', 'put', '/import_image/', { project: P1, img: 'centos7' }],
      ['mount_image', 'put', '/mount_image/', { project: P1, img: 'bmi_test' }],
      ['show_mounted', 'post', '/show_mounted/', { project: P1 }],
      ['umount_image', 'delete', '/umount_image/', { project: P1, img: 'bmi_test' }],
      ['export_image', 'put', '/export_image/', { project: P1, img: 'bmi_test', name: 'raw_copy' }],
      ['add_image', 'put', '/add_image/', { project: P1, img: 'row_only' }],
      ['delete_image', 'delete', '/delete_image/', { project: P1, img: 'row_only' }],
      ['copy_image to another project', 'put', '/copy_image/', { project: P1, img: 'bmi_test', dest_project: P2 }],
      ['list_operations', 'post', '/list_operations/', { project: P1 }],
      ['reconcile', 'post', '/reconcile/', { project: P1 }],
    ];

    it('lists every admin route', () => {
      const names = new Set(ADMIN_OPS.map(([n]) => n.split(' ')[0]));
      for (const [name] of adminRoutes) expect(names).toContain(name);
    });

    it.each(ADMIN_OPS)('alice (not a HIL admin) gets 403 on %s, nothing changes', async (_n, method, path, body) => {
      await expectText(call(t, method, path, ALICE, body), 403, ADMIN_ROLE);
      expect(await captureState(t)).toEqual(before);
    });

    it('the HIL admin runs every admin operation', async () => {
      for (const [name, method, path, body] of ADMIN_OPS) {
        const r = await call(t, method, path, ADMIN, body);
        expect({ name, status: r.status, text: r.status === 200 ? 'ok' : r.text }).toEqual({
          name,
          status: 200,
          text: 'ok',
        });
      }
      const rows = (await captureState(t)).images;
      expect(rows.find((r) => r.name === 'centos7' && r.project === P1)).toBeDefined();
      expect(rows.find((r) => r.name === 'bmi_test' && r.project === P2)).toBeDefined();
      expect(await t.storage.imageExists('raw_copy')).toBe(true);
    });

    it('the HIL admin may work in the admin project, which HIL does not know', async () => {
      const r = await expectOk(call(t, 'post', '/list_projects/', ADMIN, { project: ADMIN_PROJECT }));
      expect((JSON.parse(r.text) as { name: string }[]).map((p) => p.name)).toEqual(['bmi_infra', 'proj1', 'proj2']);
      await expectText(call(t, 'post', '/list_projects/', ALICE, { project: ADMIN_PROJECT }), 403, ADMIN_ROLE);
    });
  });
});

describe('BMI when HIL is down or broken', () => {
  // the admin project exists in a fresh BMI (proj1 would be a 404 from BMI's own DB before HIL is asked)
  const LIST = { project: ADMIN_PROJECT };

  it('HIL not listening: 503 naming HIL, on project and admin routes', async () => {
    const gone = await startHil();
    await gone.close();
    const t = await withHil(gone.url, { BMI_NET_ISOLATOR_RETRIES: '1' });
    try {
      for (const [method, path, who] of [
        ['post', '/list_images/', ALICE],
        ['put', '/provision/', ALICE],
        ['post', '/list_projects/', ADMIN],
      ] as const) {
        const body = path === '/provision/' ? { ...LIST, node: 'node-01', disk_name: 'd1', nic: 'eth0' } : LIST;
        const r = await call(t, method, path, who, body);
        expect({ path, status: r.status }).toEqual({ path, status: 503 });
        expect(r.text).toMatch(/HIL/);
        expect(r.text).not.toMatch(/alicepass|admin:/);
      }
    } finally {
      await t.close();
    }
  });

  it('HIL answering something that is not JSON, or a 5xx: 502, never a bare 500', async () => {
    let answer = { status: 200, body: '<html>not HIL</html>' };
    const garbage: Server = createServer((_req, res) => res.writeHead(answer.status).end(answer.body));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
    const t = await withHil(url, { BMI_NET_ISOLATOR_CACHE_SECONDS: '0' });
    try {
      const r1 = await call(t, 'post', '/list_images/', ALICE, LIST);
      expect(r1.status).toBe(502);
      expect(r1.text).toMatch(/HIL/);
      answer = { status: 500, body: '{"type": "ServerError", "msg": "kaput"}' };
      const r2 = await call(t, 'post', '/list_images/', ALICE, LIST);
      expect(r2.status).toBe(502);
      answer = { status: 200, body: '{"not": "a list"}' };
      const r3 = await call(t, 'post', '/list_images/', ALICE, LIST);
      expect(r3.status).toBe(502);
    } finally {
      await t.close();
      await new Promise<void>((r) => garbage.close(() => r()));
    }
  });
});
