/**
 * Provision and deprovision over HTTP, one table run against both ways BMI asks HIL who owns a node: the fake
 * HIL driver, and the real HttpHilClient against the HIL-compatible server seeded identically. A node may be
 * booted only from a disk of its own project, by someone HIL lets into that project; every refusal leaves the
 * whole state (DB, pool, targets, boot files) as it was (the original let anyone provision a free node, §8 #6).
 */
import { NODE_RULE } from '../../src/common/validation/names';
import type { HilSeed } from '../../src/modules/hil/hil-directory';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../utils/test-app';
import {
  addProject,
  AppState,
  call,
  captureState,
  createDisk,
  expectedIpxe,
  expectedPxelinux,
  expectText,
  importImage,
  listFiles,
} from '../utils/e2e';
import { HilServer, startHil } from '../utils/hil-server';

const P1 = 'proj1';
const P2 = 'proj2';
const NO_ACCESS = 'You do not have access to the required project.';
const NODE_RULE_ERROR = `node must be ${NODE_RULE}`;

/** node-01 is proj1's (two NICs, one MAC in mixed case), node-02 free, node-03 proj2's; carol is in both. */
const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: [P1] },
    bob: { password: 'bobpass', projects: [P2] },
    carol: { password: 'carol:pass', projects: [P1, P2] },
  },
  projects: [P1, P2, 'bmi_infra'],
  nodes: {
    'node-01': {
      project: P1,
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
    'node-03': { project: P2, nics: [{ label: 'eth0', macaddr: '52:54:00:00:00:03' }] },
  },
};
const CAROL = { username: 'carol', password: 'carol:pass' };
const WHO = { admin: ADMIN, alice: ALICE, bob: BOB, carol: CAROL };
type Who = keyof typeof WHO;

/** [who, project, node, disk, nic, status, text]: provision, then the same deprovision, both refused so. */
type Refusal = [Who, string, string, string, string, number, string];
const REFUSALS: Refusal[] = [
  ['alice', P1, 'node-02', 'd1', 'eth0', 403, 'Node node-02 is free: it must belong to project proj1'],
  ['alice', P1, 'node-03', 'd1', 'eth0', 401, NO_ACCESS],
  ['bob', P1, 'node-01', 'd1', 'eth0', 401, NO_ACCESS],
  ['carol', P1, 'node-03', 'd1', 'eth0', 403, 'Node node-03 does not belong to project proj1'],
  ['admin', P2, 'node-01', 'd3', 'eth0', 403, 'Node node-01 does not belong to project proj2'],
  ['alice', P1, 'nope', 'd1', 'eth0', 404, 'node nope not found'],
  ['alice', P1, 'NODE-01', 'd1', 'eth0', 404, 'node NODE-01 not found'],
  ['alice', P1, 'node-01', 'd1', 'eth9', 404, 'Nic eth9 does not exist on node node-01'],
  // own-property lookups: no prototype member passes for a node
  ['alice', P1, '__proto__', 'd1', 'eth0', 404, 'node __proto__ not found'],
  ['alice', P1, 'constructor', 'd1', 'eth0', 404, 'node constructor not found'],
  // a node's name becomes a boot file's name
  ['alice', P1, 'node..01', 'd1', 'eth0', 400, NODE_RULE_ERROR],
];

/** Refused by provision only: deprovision does not name a disk. */
const DISK_REFUSALS: Refusal[] = [
  ['alice', P1, 'node-01', 'hello', 'eth0', 404, 'hello not found'],
  ['alice', P1, 'node-01', 'bmi_test', 'eth0', 400, 'bmi_test is not a disk: make one with create_disk first'],
  ['bob', P2, 'node-03', 'd1', 'eth0', 404, 'd1 not found'],
];

/** [who, project, node, disk, nic, the pxelinux file]: provisioned, then deprovisioned. */
const GRANTS: [Who, string, string, string, string, string][] = [
  ['alice', P1, 'node-01', 'd1', 'eth1', 'pxelinux.cfg/01-52-54-00-ab-cd-ef'],
  ['carol', P2, 'node-03', 'd3', 'eth0', 'pxelinux.cfg/01-52-54-00-00-00-03'],
  ['bob', P2, 'node-03', 'd3', 'eth0', 'pxelinux.cfg/01-52-54-00-00-00-03'],
];

describe.each([
  ['the fake HIL driver', false],
  ['HttpHilClient against the HIL-compatible server', true],
])('provision and deprovision with %s', (_name, overHttp) => {
  let hil: HilServer | undefined;
  let t: TestApp;
  let before: AppState;
  const targets: Record<string, string> = {};

  beforeAll(async () => {
    if (overHttp) {
      hil = await startHil(SEED);
      t = await startTestApp({ env: { BMI_DRIVER_NET_ISOLATOR: 'hil', BMI_NET_ISOLATOR_URL: hil.url } });
    } else {
      t = await startTestApp({ hilSeed: SEED });
    }
    await addProject(t, P1);
    await addProject(t, P2);
    await importImage(t, P1);
    await importImage(t, P2, 'centos7');
    targets.d1 = await createDisk(t, ALICE, P1, 'd1');
    targets.d3 = await createDisk(t, BOB, P2, 'd3', 'centos7');
  });
  afterAll(async () => {
    await t?.close();
    await hil?.close();
  });
  beforeEach(async () => {
    before = await captureState(t);
  });

  it.each(REFUSALS)(
    '%s in %s, %s from %s on %s: %i, nothing changes',
    async (who, project, node, disk, nic, status, text) => {
      await expectText(call(t, 'put', '/provision/', WHO[who], { project, node, disk_name: disk, nic }), status, text);
      await expectText(call(t, 'delete', '/deprovision/', WHO[who], { project, node, nic }), status, text);
      expect(await captureState(t)).toEqual(before);
    },
  );

  it.each(DISK_REFUSALS)(
    '%s in %s, %s from disk %s on %s: %i, nothing changes',
    async (who, project, node, disk, nic, status, text) => {
      await expectText(call(t, 'put', '/provision/', WHO[who], { project, node, disk_name: disk, nic }), status, text);
      expect(await captureState(t)).toEqual(before);
    },
  );

  it('node_ip of a node that is not the project’s: 403, as provision', async () => {
    const ip = await call(t, 'post', '/node_ip/', ALICE, { project: P1, node: 'node-02' });
    expect(ip.status).toBe(403);
  });

  it.each(GRANTS)(
    '%s in %s boots %s from %s on %s, then undoes it',
    async (who, project, node, disk, nic, pxelinux) => {
      await expectText(
        call(t, 'put', '/provision/', WHO[who], { project, node, disk_name: disk, nic }),
        200,
        'Success',
      );
      const files = await listFiles(t.tftpRoot);
      expect(files.map((f) => [f.path, f.content])).toEqual([
        [`${node}.ipxe`, expectedIpxe(targets[disk])],
        [pxelinux, expectedPxelinux(disk, node)],
      ]);
      await expectText(call(t, 'delete', '/deprovision/', WHO[who], { project, node, nic }), 200, 'Success');
      expect(await captureState(t)).toEqual(before);
    },
  );
});
