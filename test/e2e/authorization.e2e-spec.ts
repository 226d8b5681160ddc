/**
 * Who may do what (the fixes of reference §8 #6 and #7: the original never checked admin rights, never
 * authenticated create_disk/delete_disk, and let anyone provision a free node; who may boot which node is
 * test/e2e/provisioning's table). Every refusal leaves the whole state (DB, pool, targets, boot files) as it was.
 */
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../utils/test-app';
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
  imageRow,
  importImage,
} from '../utils/e2e';

const P1 = 'proj1';
const P2 = 'proj2';
const ADMIN_ROLE = 'User Does Not Have Admin Role';

/** The default seed plus node-03 owned by proj2 and ops in the admin project. */
const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
    bob: { password: 'bobpass', projects: ['proj2'] },
    ops: { password: 'opspass', projects: ['bmi_infra'] },
  },
  projects: ['proj1', 'proj2', 'bmi_infra'],
  nodes: {
    'node-01': {
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
    'node-03': { project: 'proj2', nics: [{ label: 'eth0', macaddr: '52:54:00:00:00:03' }] },
  },
};
const OPS = { username: 'ops', password: 'opspass' };

let t: TestApp;
let before: AppState;

beforeAll(async () => {
  t = await startTestApp({ hilSeed: SEED });
  await addProject(t, P1);
  await addProject(t, P2);
  await importImage(t, P1);
  await importImage(t, P2, 'centos7');
  await createDisk(t, ALICE, P1, 'd1');
  await createDisk(t, BOB, P2, 'd3', 'centos7');
  await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P1, disk_name: 'd1', snap_name: 's1' }));
  await expectOk(call(t, 'put', '/provision/', ALICE, { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth0' }));
});
afterAll(() => t.close());
beforeEach(async () => {
  before = await captureState(t);
});

type Case = [string, HttpMethod, string, Body];

/** Every project-scoped operation on proj1's things, each of which alice may do. */
const PROJ1_OPS: Case[] = [
  ['list_images', 'post', '/list_images/', { project: P1 }],
  ['create_disk', 'put', '/create_disk', { project: P1, disk_name: 'intruder', img: 'bmi_test' }],
  ['delete_disk', 'delete', '/delete_disk', { project: P1, disk_name: 'd1' }],
  ['provision', 'put', '/provision/', { project: P1, node: 'node-01', disk_name: 'd1', nic: 'eth1' }],
  ['deprovision', 'delete', '/deprovision/', { project: P1, node: 'node-01', nic: 'eth0' }],
  ['create_snapshot', 'put', '/create_snapshot/', { project: P1, disk_name: 'd1', snap_name: 's2' }],
  ['list_snapshots', 'post', '/list_snapshots/', { project: P1 }],
  ['remove_image', 'delete', '/remove_image/', { project: P1, img: 's1' }],
  ['list_disks', 'post', '/list_disks/', { project: P1 }],
  ['copy_image', 'put', '/copy_image/', { project: P1, img: 'bmi_test', dest_project: P1, new_name: 'c' }],
  ['move_image', 'put', '/move_image/', { project: P1, img: 's1', dest_project: P1, new_name: 's9' }],
  ['node_ip', 'post', '/node_ip/', { project: P1, node: 'node-01' }],
];

describe('a member of another project', () => {
  it.each(PROJ1_OPS)('bob (proj2) gets 401 on %s in proj1, nothing changes', async (_n, method, path, body) => {
    await expectText(call(t, method, path, BOB, body), 401, 'You do not have access to the required project.');
    expect(await captureState(t)).toEqual(before);
  });

  it("bob cannot reach proj1's disk from his own project either: proj1's names mean nothing in proj2", async () => {
    await expectText(call(t, 'delete', '/delete_disk', BOB, { project: P2, disk_name: 'd1' }), 404, 'd1 not found');
    expect(await captureState(t)).toEqual(before);
  });
});

/** Admin operations, each with a body that an admin may run (and that changes nothing when refused). */
const ADMIN_OPS: Case[] = [
  ['import_image', 'put', '/import_image/', { project: P1, img: 'centos7' }],
  ['list_projects', 'post', '/list_projects/', { project: P1 }],
  ['add_project', 'put', '/add_project/', { project: P1, name: 'proj3' }],
  ['delete_project', 'delete', '/delete_project/', { project: P1, name: 'proj3' }],
  ['list_all_images', 'post', '/list_all_images/', { project: P1 }],
  ['mount_image', 'put', '/mount_image/', { project: P1, img: 'bmi_test' }],
  ['umount_image', 'delete', '/umount_image/', { project: P1, img: 'd1' }],
  ['show_mounted', 'post', '/show_mounted/', { project: P1 }],
  ['export_image', 'put', '/export_image/', { project: P1, img: 'bmi_test', name: 'raw_copy' }],
  ['add_image', 'put', '/add_image/', { project: P1, img: 'row_only' }],
  ['delete_image', 'delete', '/delete_image/', { project: P1, img: 'row_only' }],
  ['copy_image to another project', 'put', '/copy_image/', { project: P1, img: 'bmi_test', dest_project: P2 }],
  ['move_image to another project', 'put', '/move_image/', { project: P1, img: 's1', dest_project: P2 }],
  ['list_operations', 'post', '/list_operations/', { project: P1 }],
  ['reconcile', 'post', '/reconcile/', { project: P1 }],
];

describe('admin operations', () => {
  it.each(ADMIN_OPS)('non-admin alice gets 403 on %s, nothing changes', async (_n, method, path, body) => {
    await expectText(call(t, method, path, ALICE, body), 403, ADMIN_ROLE);
    expect(await captureState(t)).toEqual(before);
  });

  it.each(ADMIN_OPS)(
    'bob, not even a member of the project, gets 403 on %s, nothing changes',
    async (_n, method, path, body) => {
      await expectText(call(t, method, path, BOB, body), 403, ADMIN_ROLE);
      expect(await captureState(t)).toEqual(before);
    },
  );

  it('the HIL admin can run every admin operation', async () => {
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
    expect(rows.find((r) => r.name === 's1' && r.project === P2)).toMatchObject({ isSnapshot: false, parent: '' });
    expect(rows.find((r) => r.name === 'row_only')).toBeUndefined();
    expect(await t.storage.imageExists('raw_copy')).toBe(true);
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain('5img1');
  });

  it('a member of the admin project (bmi_infra in HIL) is a BMI admin too', async () => {
    const r = await expectOk(call(t, 'post', '/list_projects/', OPS, { project: ADMIN_PROJECT }));
    expect((JSON.parse(r.text) as { name: string }[]).map((p) => p.name)).toEqual(['bmi_infra', 'proj1', 'proj2']);
    await expectOk(call(t, 'post', '/list_all_images/', OPS, { project: ADMIN_PROJECT }));
    // ...but admin rights do not make ops a member of proj1 in HIL
    await expectText(
      call(t, 'post', '/list_images/', OPS, { project: P1 }),
      401,
      'You do not have access to the required project.',
    );
  });

  it('alice may copy and rename within her own project (no admin needed)', async () => {
    await expectText(
      call(t, 'put', '/copy_image/', ALICE, { project: P1, img: 'bmi_test', dest_project: P1, new_name: 'mine' }),
      200,
      'Success',
    );
    await expectText(
      call(t, 'put', '/move_image/', ALICE, { project: P1, img: 'mine', dest_project: P1, new_name: 'mine2' }),
      200,
      'Success',
    );
    expect(await imageRow(t, P1, 'mine2')).toMatchObject({ isSnapshot: false, parent: '' });
  });
});

describe('unknown users', () => {
  it.each([...PROJ1_OPS, ...ADMIN_OPS])(
    'an unknown user gets 401 on %s, nothing changes',
    async (_n, method, path, body) => {
      await expectText(
        call(t, method, path, { username: 'mallory', password: 'alicepass' }, body),
        401,
        'Authentication Failed',
      );
      expect(await captureState(t)).toEqual(before);
    },
  );

  it('malformed Authorization headers are 401, and the header is checked before anything else', async () => {
    const headers = [
      'Bearer abc',
      'Basic',
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':emptyuser').toString('base64')}`,
      'Digest username="alice"',
    ];
    for (const h of headers) {
      const r = await t.http().post('/list_images/').set('Authorization', h).type('form').send({ project: P1 });
      expect({ h, status: r.status }).toEqual({ h, status: 401 });
      expect(r.text).toMatch(/^Authentication Failed/);
    }
    expect(await captureState(t)).toEqual(before);
  });
});
