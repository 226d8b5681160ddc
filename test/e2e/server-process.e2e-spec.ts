import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HIL_USERS, HilReplay, startHilReplay } from '../utils/hil-replay';
import { freePort, SERVER_MAIN, startServer, waitFor } from '../utils/server-process';

/** A config as the original BMI master's sample wrote it (reference §1.3), pointed at temp dirs. */
function originalConfig(dir: string, port: number, hilUrl: string): string {
  return `
[bmi]
uid = 5
service = False
snapshot = bmi_created_snapshot

[db]
path = ${dir}/bmi.db

[rpc]
name_server_ip = 127.0.0.1
name_server_port = 10000
rpc_server_ip = 127.0.0.1
rpc_server_port = 10001

[tftp]
pxelinux_path = ${dir}/tftpboot/pxelinux.cfg/
ipxe_path = ${dir}/tftpboot/

[rest_api]
ip = 127.0.0.1
port = ${port}

[logs]
path = ${dir}/logs/
debug = False
verbose = False

[driver]
net_isolator = hil
iscsi = tgt
fs = ceph

[net_isolator]
url = ${hilUrl}

[iscsi]
ip = 192.168.100.10
password = not-used

[fs]
id = bmi
pool = bmi
conf_file = ${dir}/ceph.conf
keyring = ${dir}/ceph.client.bmi.keyring

[tests]
incorrect_hil_password = admin123##
`;
}

function basic(u: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;
}

async function post(
  url: string,
  method: string,
  user: { username: string; password: string },
  fields: Record<string, string>,
) {
  const res = await fetch(url, {
    method,
    headers: { Authorization: basic(user), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, text: await res.text() };
}

describe('the server process, started from a config written for the original BMI', () => {
  let dir: string;
  let hil: HilReplay;

  beforeAll(async () => {
    if (!existsSync(SERVER_MAIN))
      throw new Error(`${SERVER_MAIN} is missing: run "npm run build" first (npm test does)`);
    hil = await startHilReplay();
  });
  afterAll(() => hil.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-proc-'));
    writeFileSync(path.join(dir, 'ceph.conf'), '[global]\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the original API with the HTTP HIL client, the storage and target drivers overridden from the environment', async () => {
    const port = await freePort();
    const file = path.join(dir, 'bmiconfig.cfg');
    writeFileSync(file, originalConfig(dir, port, hil.url));
    const s = startServer(
      {
        BMI_CONFIG: file,
        BMI_DRIVER_FS: 'fake',
        BMI_DRIVER_ISCSI: 'fake',
        BMI_FS_FAKE_IMAGES: 'bmi_test',
      },
      undefined,
      path.join(dir, 'logs', 'bmi.log'),
    );
    try {
      await waitFor(s, 'serving on');
      const url = `http://127.0.0.1:${port}`;
      // HIL's admin (the recording's) adds the project; alice, a member of proj1 in HIL, works in it.
      expect(
        await post(`${url}/add_project/`, 'PUT', HIL_USERS.admin, { project: 'bmi_infra', name: 'proj1' }),
      ).toEqual({
        status: 200,
        text: '{"id":2,"name":"proj1"}',
      });
      expect(await post(`${url}/import_image/`, 'PUT', HIL_USERS.admin, { project: 'proj1', img: 'bmi_test' })).toEqual(
        {
          status: 200,
          text: 'Success',
        },
      );
      expect(await post(`${url}/list_images/`, 'POST', HIL_USERS.alice, { project: 'proj1' })).toEqual({
        status: 200,
        text: '["bmi_test"]',
      });
      expect(
        await post(`${url}/create_disk`, 'PUT', HIL_USERS.alice, {
          project: 'proj1',
          disk_name: 'd1',
          img: 'bmi_test',
        }),
      ).toEqual({
        status: 200,
        text: '"5img2"',
      });
      // bob is not in proj1; a wrong password is refused by HIL.
      expect((await post(`${url}/list_images/`, 'POST', HIL_USERS.bob, { project: 'proj1' })).status).toBe(401);
      expect((await post(`${url}/list_images/`, 'POST', HIL_USERS.wrongPassword, { project: 'proj1' })).status).toBe(
        401,
      );
      expect(s.output()).not.toContain('alicepass');
      expect(s.output()).not.toContain('adminpass');
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
    // the DB file stays, with the admin project made at first start
    expect(existsSync(path.join(dir, 'bmi.db'))).toBe(true);
  });

  it('with iscsi = tgt and no tgtd on the control port: starts, says so, and create_disk is a 503 that leaves nothing', async () => {
    const port = await freePort();
    const file = path.join(dir, 'bmiconfig.cfg');
    writeFileSync(file, originalConfig(dir, port, hil.url));
    // no tgtd answers on this control port (and without tgt installed, tgtadm cannot even start)
    const controlPort = String(30000 + Math.floor(Math.random() * 2000));
    const s = startServer(
      {
        BMI_CONFIG: file,
        BMI_DRIVER_FS: 'fake',
        BMI_FS_FAKE_IMAGES: 'bmi_test',
        BMI_ISCSI_TGT_CONTROL_PORT: controlPort,
      },
      undefined,
      path.join(dir, 'logs', 'bmi.log'),
    );
    try {
      await waitFor(s, 'serving on');
      expect(s.output()).toContain('cannot check the iSCSI targets');
      expect(s.output()).toMatch(/drivers fs=fake iscsi=tgt/);
      const url = `http://127.0.0.1:${port}`;
      expect(
        (await post(`${url}/add_project/`, 'PUT', HIL_USERS.admin, { project: 'bmi_infra', name: 'proj1' })).status,
      ).toBe(200);
      expect(
        (await post(`${url}/import_image/`, 'PUT', HIL_USERS.admin, { project: 'proj1', img: 'bmi_test' })).status,
      ).toBe(200);
      expect(
        await post(`${url}/create_disk`, 'PUT', HIL_USERS.alice, {
          project: 'proj1',
          disk_name: 'd1',
          img: 'bmi_test',
        }),
      ).toEqual({
        status: 503,
        text: `the iSCSI target daemon is not reachable (tgtd on control port ${controlPort})`,
      });
      expect(await post(`${url}/list_disks/`, 'POST', HIL_USERS.alice, { project: 'proj1' })).toEqual({
        status: 200,
        text: '[]',
      });
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });

  it('lists every problem of a bad config at once and exits 78', async () => {
    const file = path.join(dir, 'bad.cfg');
    writeFileSync(file, '[bmi]\nuid = 5img\n[driver]\nfs = nfs\n[rest_api]\nport = eighty\n');
    const s = startServer({ BMI_CONFIG: file });
    expect(await s.exited).toBe(78);
    const out = s.output();
    for (const problem of [
      '[bmi] uid',
      '[driver] fs = "nfs"',
      '[rest_api] port',
      'missing option [db] path',
      'missing option [iscsi] ip',
    ]) {
      expect(out).toContain(problem);
    }
  });

  it('exits 78 naming the file when BMI_CONFIG points nowhere', async () => {
    const s = startServer({ BMI_CONFIG: path.join(dir, 'nope.cfg') });
    expect(await s.exited).toBe(78);
    expect(s.output()).toContain(`cannot load ${path.join(dir, 'nope.cfg')}`);
  });
});
