import { Logger } from '@nestjs/common';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import { ADMIN, ALICE, startTestApp, TestApp } from '../../utils/test-app';
import { HilSeed } from '../../../src/modules/hil/hil-directory';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImagesService } from '../../../src/modules/images/images.service';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { NodesService } from '../../../src/modules/nodes/nodes.service';

/** GET /boot/ipxe over HTTP, through the whole app: unauthenticated, one provisioned node's script only. */
const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
  },
  projects: ['proj1'],
  nodes: {
    'node-01': { project: 'proj1', nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:56' }] },
    'node-02': { project: 'proj1', nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:57' }] },
  },
};
let alice: ProjectScope;
const MAC = '52:54:00:12:34:56';

let t: TestApp;
let target: string;

async function start(tftp: string[]): Promise<void> {
  t = await startTestApp({ fakeImages: ['bmi_test'], hilSeed: SEED, extraIni: ['[tftp]', ...tftp] });
  await t.app.get(ProjectsService).add('proj1');
  alice = await t.scope(ALICE, 'proj1');
  await t.app.get(ImagesService).importImage(await t.scope(ADMIN, 'proj1', 'admin'), 'bmi_test');
  target = await t.app.get(DisksService).createDisk(alice, 'disk1', 'bmi_test');
  await t.app.get(NodesService).provision(alice, 'node-01', 'disk1', 'eth0');
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t?.close();
});

const ON = ['ipxe_mac_path = %(ipxe_path)s/mac', 'http_boot = true'];

describe('GET /boot/ipxe', () => {
  it('answers the provisioned node’s script as plain text, with no credentials, never cached', async () => {
    await start(ON);
    const r = await t.http().get('/boot/ipxe').query({ mac: MAC });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.text).toBe(
      `#!ipxe\n      set keep-san 1\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:${target}\n      boot`,
    );
  });

  it('takes the MAC as iPXE sends it: URL-encoded colons, upper or lower case, or dashes', async () => {
    await start(ON);
    for (const q of [
      '52%3A54%3A00%3A12%3A34%3A56',
      '52:54:00:12:34:56',
      '52-54-00-12-34-56',
      '52:54:00:12:34:56'.toUpperCase(),
    ]) {
      const r = await t.http().get(`/boot/ipxe?mac=${q}`);
      expect(r.status).toBe(200);
    }
  });

  it('another node’s MAC, not provisioned, is 404; so is every MAC after deprovision', async () => {
    await start(ON);
    const other = await t.http().get('/boot/ipxe').query({ mac: '52:54:00:12:34:57' });
    expect([other.status, other.text]).toEqual([404, 'No node is provisioned with MAC 52:54:00:12:34:57']);
    await t.app.get(NodesService).deprovision(alice, 'node-01', 'eth0');
    expect((await t.http().get('/boot/ipxe').query({ mac: MAC })).status).toBe(404);
  });

  it('a missing or malformed mac is 400, whatever else is in the query', async () => {
    await start(ON);
    expect((await t.http().get('/boot/ipxe')).status).toBe(400);
    for (const mac of ['../../etc/passwd', 'node-01', '52:54:00:12:34', '52:54:00:12:34:56/x', '52_54_00_12_34_56']) {
      const r = await t.http().get('/boot/ipxe').query({ mac });
      expect([mac, r.status]).toEqual([mac, 400]);
    }
  });

  it('is 404 when http_boot is off (the default), even with per-MAC scripts on disk', async () => {
    await start(['ipxe_mac_path = %(ipxe_path)s/mac']);
    const r = await t.http().get('/boot/ipxe').query({ mac: MAC });
    expect([r.status, r.text]).toEqual([404, 'HTTP boot is off ([tftp] http_boot)']);
  });

  it('answers only the clients in http_boot_allow (403 for the others)', async () => {
    await start([...ON, 'http_boot_allow = 10.99.0.0/24']);
    const r = await t.http().get('/boot/ipxe').query({ mac: MAC });
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('iscsi');
    await t.close();
    await start([...ON, 'http_boot_allow = 10.99.0.0/24, 127.0.0.1, ::1']);
    expect((await t.http().get('/boot/ipxe').query({ mac: MAC })).status).toBe(200);
  });

  it('only GET (and HEAD): other methods are 405', async () => {
    await start(ON);
    expect((await t.http().post('/boot/ipxe').query({ mac: MAC })).status).toBe(405);
    expect((await t.http().head('/boot/ipxe').query({ mac: MAC })).status).toBe(200);
  });
});
