import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, SERVER_MAIN, ServerProcess, startServer, waitFor } from '../utils/server-process';
import { sendForm } from '../utils/real-bmi';

const ROOT = path.resolve(__dirname, '../..');
const BMI = path.join(ROOT, 'bin', 'bmi.js');
const ADMIN = { username: 'admin', password: 'admin' };
const ALICE = { username: 'alice', password: 'alicepass' };
type User = typeof ADMIN;

/**
 * The laptop mode as a newcomer runs it: config/laptop.cfg itself, in a directory of its own (its paths are
 * relative), stopped and started again. What was made before the restart is all still there and usable: the
 * DB, the in-memory pool (its state file), the boot files and, re-created at start, the targets.
 */
describe('laptop mode (config/laptop.cfg) across a restart', () => {
  let dir: string;
  let port: number;
  let server: ServerProcess | undefined;

  beforeAll(() => {
    if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run "npm run build" first`);
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-laptop-'));
    mkdirSync(path.join(dir, 'config'));
    for (const f of ['laptop.cfg', 'hil-seed.json'])
      copyFileSync(path.join(ROOT, 'config', f), path.join(dir, 'config', f));
    port = await freePort();
  });
  afterEach(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    server = startServer({ BMI_CONFIG: 'config/laptop.cfg', BMI_REST_API_PORT: String(port) }, dir);
    await waitFor(server, 'serving on');
  }

  async function stop(): Promise<void> {
    if (!server) return;
    server.proc.kill('SIGTERM');
    await server.exited;
    server = undefined;
  }

  const call = (method: string, route: string, user: User, fields: Record<string, string>) =>
    sendForm(`http://127.0.0.1:${port}`, method, route.replace(/^\//, ''), user, fields);

  /** The `bmi` command against this server, as alice. */
  function bmi(...args: string[]) {
    const r = spawnSync(process.execPath, [BMI, ...args], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        BMI_URL: `http://127.0.0.1:${port}`,
        HIL_USERNAME: 'alice',
        HIL_PASSWORD: 'alicepass',
        BMI_CLIENT_CONFIG: '/nonexistent/bmi/config',
      },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  const bootFiles = () => readdirSync(path.join(dir, 'var/laptop/tftpboot')).sort();

  it('keeps images, disks, snapshots, targets and boot files, and every one of them still works', async () => {
    await start();
    expect(await call('PUT', '/add_project/', ADMIN, { project: 'bmi_infra', name: 'proj1' })).toMatchObject({
      status: 200,
    });
    expect(await call('PUT', '/import_image/', ADMIN, { project: 'proj1', img: 'centos7' })).toEqual({
      status: 200,
      text: 'Success',
    });
    expect(bmi('disk', 'create', 'proj1', 'centos7', 'web1')).toMatchObject({ status: 0 });
    expect(bmi('pro', 'proj1', 'node-01', 'web1', 'eth0')).toMatchObject({ status: 0 });
    // an operation: waited for, so that the restart does not cut it short
    expect(bmi('snap', 'create', 'proj1', 'web1', 'web-golden', '--wait')).toMatchObject({ status: 0 });
    const filesBefore = bootFiles();
    expect(filesBefore).toEqual(['node-01.ipxe', 'pxelinux.cfg']);
    await stop();
    expect(JSON.parse(readFileSync(path.join(dir, 'var/laptop/pool.json'), 'utf8')).images).toHaveLength(5);

    await start();
    // what `bmi ls` and `bmi snap ls` list can be cloned: the golden image and the snapshot
    const ls = bmi('ls', 'proj1', '-f', 'value', '-c', 'name');
    expect(ls).toMatchObject({ status: 0, stdout: 'centos7\n' });
    const snaps = bmi('snap', 'ls', 'proj1', '--json');
    expect(snaps.status).toBe(0);
    expect(JSON.parse(snaps.stdout)).toEqual([
      { name: 'web-golden', kind: 'snapshot', parent: 'centos7', public: false, exported: false },
    ]);
    for (const [img, disk] of [
      ['centos7', 'web2'],
      ['web-golden', 'web3'],
    ]) {
      expect(await call('PUT', '/create_disk', ALICE, { project: 'proj1', disk_name: disk, img })).toEqual({
        status: 200,
        text: expect.stringMatching(/^"5img\d+"$/),
      });
    }
    // the disk of the first run is still exported (its target re-created at start) and can be taken down
    expect(bootFiles()).toEqual(filesBefore);
    expect(server!.output()).not.toMatch(/does not exist|not found/i);
    expect(await call('DELETE', '/deprovision/', ALICE, { project: 'proj1', node: 'node-01', nic: 'eth0' })).toEqual({
      status: 200,
      text: 'Success',
    });
    for (const disk of ['web1', 'web2', 'web3']) {
      expect(await call('DELETE', '/delete_disk', ALICE, { project: 'proj1', disk_name: disk })).toEqual({
        status: 200,
        text: 'Success',
      });
    }
    for (const img of ['web-golden', 'centos7']) {
      expect(await call('DELETE', '/remove_image/', ALICE, { project: 'proj1', img })).toEqual({
        status: 200,
        text: 'Success',
      });
    }
    await stop();
    // nothing left but the two raw images the pool was seeded with
    const pool = JSON.parse(readFileSync(path.join(dir, 'var/laptop/pool.json'), 'utf8')) as {
      images: { name: string }[];
    };
    expect(pool.images.map((i) => i.name).sort()).toEqual(['centos7', 'ubuntu22']);
  });
});
