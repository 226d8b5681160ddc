/**
 * The `bmi` CLI end to end: runCli() in-process against the whole app (fake drivers) listening on a real port.
 * One app serves the whole file; the lifecycle tests run in order and build on each other, the way an
 * operator would use the CLI: add projects, import an image, make a disk, boot a node from it, snapshot it,
 * copy and move images, and take it all down again.
 */
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/program';
import { ADMIN, ALICE, BOB, HIL_SEED_FILE, startTestApp, TestApp } from '../utils/test-app';

type User = { username: string; password: string };
type Env = Record<string, string | undefined>;

interface Run {
  code: number;
  out: string;
  err: string;
}

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen(0, '127.0.0.1');
  const port = (t.app.getHttpServer().address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await t.close();
});

/** Runs `bmi <args>` with exactly the given environment and captures what it prints. */
async function cli(env: Env, args: string[], extra: { fetch?: typeof fetch } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'bmi', ...args], {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    ...extra,
  });
  return { code, out, err };
}

/** `bmi <args>` as the given HIL user, against the test server. */
function bmi(user: User, ...args: string[]): Promise<Run> {
  return cli({ BMI_URL: url, HIL_USERNAME: user.username, HIL_PASSWORD: user.password }, args);
}

/** Like bmi(), but expects success and returns stdout. */
async function ok(user: User, ...args: string[]): Promise<string> {
  const r = await bmi(user, ...args);
  if (r.code !== 0) throw new Error(`bmi ${args.join(' ')} exited ${r.code}: ${r.err}`);
  expect(r.err).toBe('');
  return r.out;
}

/** `bmi --json <args>`, parsed. */
async function json<T = unknown>(user: User, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(user, '--json', ...args)) as T;
}

/** The data rows of a cli-table3 table, as arrays of trimmed cells (the header row first). */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('│')
        .map((c) => c.trim()),
    );
}

interface ImageRow {
  id: number;
  name: string;
  project: string;
  cephName: string;
  isPublic: boolean;
  isSnapshot: boolean;
  parent: string;
}

const PXE_ETH1 = '01-52-54-00-ab-cd-ef';

describe('bmi CLI: a whole lifecycle', () => {
  let diskTarget = '';

  it('project create adds projects, with an explicit id when asked', async () => {
    const first = rows(await ok(ADMIN, 'project', 'create', 'proj1'));
    expect(first).toEqual([
      ['Id', 'Name'],
      [expect.stringMatching(/^\d+$/), 'proj1'],
    ]);
    const second = rows(await ok(ADMIN, 'project', 'create', 'proj2', '--id', '42'));
    expect(second).toEqual([
      ['Id', 'Name'],
      ['42', 'proj2'],
    ]);
  });

  it('project ls lists every project, the admin project included', async () => {
    const table = rows(await ok(ADMIN, 'project', 'ls'));
    expect(table[0]).toEqual(['Id', 'Name']);
    expect(
      table
        .slice(1)
        .map((r) => r[1])
        .sort(),
    ).toEqual(['bmi_infra', 'proj1', 'proj2']);
    expect(await json(ADMIN, 'project', 'ls')).toContainEqual({ id: 42, name: 'proj2' });
  });

  it('import makes a golden image of a raw pool image; ls lists it', async () => {
    expect(await ok(ADMIN, 'import', 'proj1', 'bmi_test')).toBe('Success\n');
    expect(rows(await ok(ALICE, 'ls', 'proj1'))).toEqual([['Image'], ['bmi_test']]);
  });

  it('import --snap --protect imports an existing snapshot and leaves it as it was', async () => {
    await t.storage.createSnapshot('centos7', 'golden');
    expect(await ok(ADMIN, 'import', 'proj2', 'centos7', '--snap', 'golden', '--protect')).toBe('Success\n');
    expect(await json(BOB, 'ls', 'proj2')).toEqual(['centos7']);
    expect(await t.storage.listSnapshots('centos7')).toEqual([{ name: 'golden', protected: false }]);
  });

  it('disk create prints the iSCSI target name, unquoted', async () => {
    const out = await ok(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'disk1');
    expect(out).toMatch(/^5img\d+\n$/);
    diskTarget = out.trim();
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain(diskTarget);
  });

  it('pro writes the boot files of the node for the NIC (pxelinux name lower-cased)', async () => {
    expect(await ok(ALICE, 'pro', 'proj1', 'node-01', 'disk1', 'eth1')).toBe('Success\n');
    const ipxe = path.join(t.tftpRoot, 'node-01.ipxe');
    const pxe = path.join(t.pxelinuxDir, PXE_ETH1);
    expect(readFileSync(ipxe, 'utf8')).toContain(`iscsi:10.0.0.1:tcp:3260:1:${diskTarget}`);
    expect(readFileSync(pxe, 'utf8')).toContain('INITRD node-01.ipxe');
  });

  it('showdisks lists the disk and its source image', async () => {
    expect(rows(await ok(ALICE, 'showdisks', 'proj1'))).toEqual([
      ['Disk', 'Source Image'],
      ['disk1', 'bmi_test'],
    ]);
  });

  it('op ls lists the journal, newest first: what each operation acted on and how far it got', async () => {
    const table = rows(await ok(ADMIN, 'op', 'ls', '--limit', '2'));
    expect(table[0]).toEqual(['Started', 'Id', 'Operation', 'Project', 'By', 'On', 'State', 'Steps done', 'Error']);
    expect(table.slice(1).map((r) => [r[2], r[3], r[4], r[6]])).toEqual([
      ['provision', 'proj1', 'alice', 'done'],
      ['create_disk', 'proj1', 'alice', 'done'],
    ]);
    expect(table[1][5]).toBe('node=node-01 disk=disk1 nic=eth1');
    expect((await json<{ kind: string }[]>(ADMIN, 'op', 'ls', '--state', 'failed')).map((o) => o.kind)).toEqual([]);
    const refused = await bmi(ALICE, 'op', 'ls');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('User Does Not Have Admin Role');
  });

  it('snap create saves the disk as a snapshot; snap ls lists it with its parent', async () => {
    expect(await ok(ALICE, 'snap', 'create', 'proj1', 'disk1', 'snap1')).toBe('Success\n');
    expect(rows(await ok(ALICE, 'snap', 'ls', 'proj1'))).toEqual([
      ['Snapshot', 'Parent'],
      ['snap1', 'bmi_test'],
    ]);
  });

  it('cp and mv within a project work for a project member', async () => {
    expect(await ok(ALICE, 'cp', 'proj1', 'snap1', 'proj1', 'snap1copy')).toBe('Success\n');
    expect(await ok(ALICE, 'mv', 'proj1', 'snap1copy', 'proj1', 'snap1moved')).toBe('Success\n');
    expect(await json(ALICE, 'snap', 'ls', 'proj1')).toEqual([
      ['snap1', 'bmi_test'],
      ['snap1moved', 'bmi_test'],
    ]);
  });

  it('cp and mv into another project need an admin', async () => {
    const refused = await bmi(ALICE, 'cp', 'proj1', 'bmi_test', 'proj2', 'x');
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('Error (403): User Does Not Have Admin Role\n');

    expect(await ok(ADMIN, 'cp', 'proj1', 'bmi_test', 'proj2', 'bmi_copy')).toBe('Success\n');
    expect((await json<string[]>(BOB, 'ls', 'proj2')).sort()).toEqual(['bmi_copy', 'centos7']);
    expect(await ok(ADMIN, 'mv', 'proj2', 'bmi_copy', 'proj1', 'golden2')).toBe('Success\n');
    expect(await json(BOB, 'ls', 'proj2')).toEqual(['centos7']);
    expect((await json<string[]>(ALICE, 'ls', 'proj1')).sort()).toEqual(['bmi_test', 'golden2']);
  });

  it('export copies an image out to a raw pool image', async () => {
    expect(await t.storage.imageExists('bmi_test_export')).toBe(false);
    expect(await ok(ADMIN, 'export', 'proj1', 'bmi_test', 'bmi_test_export')).toBe('Success\n');
    expect(await t.storage.imageExists('bmi_test_export')).toBe(true);
    expect(await t.storage.parentOf('bmi_test_export')).toBeNull();
  });

  it('db ls shows every record in a table', async () => {
    const table = rows(await ok(ADMIN, 'db', 'ls'));
    expect(table[0]).toEqual(['Id', 'Name', 'Project', 'Ceph', 'Public', 'Snapshot', 'Parent']);
    const disk = table.find((r) => r[1] === 'disk1');
    expect(disk).toEqual([expect.any(String), 'disk1', 'proj1', diskTarget, 'False', 'False', 'bmi_test']);
    const names = table.slice(1).map((r) => r[1]);
    expect(names.sort()).toEqual(['bmi_test', 'centos7', 'disk1', 'golden2', 'snap1', 'snap1moved']);
  });

  it('db ls filters by kind (-s, -c) and by --project, --name and --ceph', async () => {
    const snaps = await json<ImageRow[]>(ADMIN, 'db', 'ls', '-s');
    expect(snaps.map((r) => r.name).sort()).toEqual(['snap1', 'snap1moved']);
    expect(snaps.every((r) => r.isSnapshot)).toBe(true);

    expect((await json<ImageRow[]>(ADMIN, 'db', 'ls', '-c')).map((r) => r.name)).toEqual(['disk1']);
    expect((await json<ImageRow[]>(ADMIN, 'db', 'ls', '-s', '-c')).map((r) => r.name).sort()).toEqual([
      'disk1',
      'snap1',
      'snap1moved',
    ]);
    expect((await json<ImageRow[]>(ADMIN, 'db', 'ls', '--project', 'proj2')).map((r) => r.name)).toEqual(['centos7']);
    const byName = await json<ImageRow[]>(ADMIN, 'db', 'ls', '--name', 'disk1', '--ceph', diskTarget);
    expect(byName).toHaveLength(1);
    expect(byName[0]).toMatchObject({ name: 'disk1', project: 'proj1', parent: 'bmi_test', cephName: diskTarget });
    expect(await json(ADMIN, 'db', 'ls', '--name', 'disk1', '--project', 'proj2')).toEqual([]);
  });

  it('db create adds a record and prints its id; db rm deletes it', async () => {
    const id = await ok(ADMIN, 'db', 'create', 'proj2', 'manual', '--id', '900', '--public', '--parent', 'centos7');
    expect(id).toBe('900\n');
    const pub = await json<ImageRow[]>(ADMIN, 'db', 'ls', '-p');
    expect(pub).toEqual([
      {
        id: 900,
        name: 'manual',
        project: 'proj2',
        cephName: '5img900',
        isPublic: true,
        isSnapshot: false,
        parent: 'centos7',
      },
    ]);
    expect(await ok(ADMIN, 'db', 'rm', 'proj2', 'manual')).toBe('Success\n');
    expect(await json(ADMIN, 'db', 'ls', '--name', 'manual')).toEqual([]);
  });

  it('iscsi create, ls and rm export an image directly', async () => {
    const [golden] = await json<ImageRow[]>(ADMIN, 'db', 'ls', '--project', 'proj1', '--name', 'bmi_test');
    expect(await ok(ADMIN, 'iscsi', 'create', 'proj1', 'bmi_test')).toBe(`${golden.cephName}\n`);
    const [head, ...body] = rows(await ok(ADMIN, 'iscsi', 'ls', 'proj1'));
    expect(head).toEqual(['Image', 'Target']);
    expect(body.sort()).toEqual([
      ['bmi_test', golden.cephName],
      ['disk1', diskTarget],
    ]);
    expect(await json(ADMIN, 'iscsi', 'ls', 'proj1')).toEqual({ bmi_test: golden.cephName, disk1: diskTarget });
    expect(await ok(ADMIN, 'iscsi', 'rm', 'proj1', 'bmi_test')).toBe('Success\n');
    expect(await json(ADMIN, 'iscsi', 'ls', 'proj1')).toEqual({ disk1: diskTarget });
  });

  it('node ip prints the address dnsmasq leased to the node', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(t.config.tftp.leasesFile, `${expiry} 52:54:00:ab:cd:ef 10.0.0.55 node-01 *\n`);
    expect(await ok(ALICE, 'node', 'ip', 'proj1', 'node-01', '--nic', 'eth1')).toBe('10.0.0.55\n');
    expect(await ok(ALICE, 'node', 'ip', 'proj1', 'node-01')).toBe('10.0.0.55\n');
    const none = await bmi(ALICE, 'node', 'ip', 'proj1', 'node-01', '--nic', 'eth0');
    expect(none.code).toBe(1);
    expect(none.err).toBe('Error (404): 52:54:00:12:34:56 Has Not Been Assigned An IP Yet\n');
  });

  it('dpro removes the boot files and leaves the disk', async () => {
    expect(await ok(ALICE, 'dpro', 'proj1', 'node-01', 'eth1')).toBe('Success\n');
    expect(existsSync(path.join(t.tftpRoot, 'node-01.ipxe'))).toBe(false);
    expect(existsSync(path.join(t.pxelinuxDir, PXE_ETH1))).toBe(false);
    expect(await json(ALICE, 'showdisks', 'proj1')).toEqual([['disk1', 'bmi_test']]);
  });

  it('snap rm removes snapshots', async () => {
    expect(await ok(ALICE, 'snap', 'rm', 'proj1', 'snap1')).toBe('Success\n');
    expect(await ok(ALICE, 'snap', 'rm', 'proj1', 'snap1moved')).toBe('Success\n');
    expect(rows(await ok(ALICE, 'snap', 'ls', 'proj1'))).toEqual([['Snapshot', 'Parent']]);
  });

  it('disk delete removes the disk, its clone and its target', async () => {
    expect(await ok(ALICE, 'disk', 'delete', 'proj1', 'disk1')).toBe('Success\n');
    expect(await json(ALICE, 'showdisks', 'proj1')).toEqual([]);
    expect(await t.storage.imageExists(diskTarget)).toBe(false);
    expect((await t.iscsi.listTargets()).map((x) => x.name)).not.toContain(diskTarget);
  });

  it('rm removes golden images', async () => {
    expect(await ok(ALICE, 'rm', 'proj1', 'bmi_test')).toBe('Success\n');
    expect(await ok(ALICE, 'rm', 'proj1', 'golden2')).toBe('Success\n');
    expect(await ok(BOB, 'rm', 'proj2', 'centos7')).toBe('Success\n');
    expect(rows(await ok(ALICE, 'ls', 'proj1'))).toEqual([['Image']]);
    expect(await json(ADMIN, 'db', 'ls')).toEqual([]);
  });

  it('project rm deletes the (now empty) projects', async () => {
    expect(await ok(ADMIN, 'project', 'rm', 'proj1')).toBe('Success\n');
    expect(await ok(ADMIN, 'project', 'rm', 'proj2')).toBe('Success\n');
    expect(await json(ADMIN, 'project', 'ls')).toEqual([{ id: 1, name: 'bmi_infra' }]);
  });
});

describe('bmi CLI: failures', () => {
  beforeAll(async () => {
    await ok(ADMIN, 'project', 'create', 'proj1');
  });

  it('needs HIL_USERNAME and HIL_PASSWORD, as the original did', async () => {
    const noUser = await cli({ BMI_URL: url, HIL_PASSWORD: 'alicepass' }, ['ls', 'proj1']);
    expect(noUser).toEqual({ code: 1, out: '', err: 'HIL_USERNAME Variable Not Set\n' });
    const noPassword = await cli({ BMI_URL: url, HIL_USERNAME: 'alice' }, ['ls', 'proj1']);
    expect(noPassword).toEqual({ code: 1, out: '', err: 'HIL_PASSWORD Variable Not Set\n' });
  });

  it("reports a wrong password as the server's 401, without echoing the password", async () => {
    const r = await bmi({ username: 'alice', password: 'not-the-secret' }, 'ls', 'proj1');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('Error (401): Authentication Failed\n');
    expect(r.err).not.toContain('not-the-secret');
  });

  it("reports an unknown image as the server's 404", async () => {
    const r = await bmi(ALICE, 'disk', 'create', 'proj1', 'nosuch', 'd2');
    expect(r).toEqual({ code: 1, out: '', err: 'Error (404): nosuch not found\n' });
  });

  it('reports a project BMI does not know as 404', async () => {
    const r = await bmi(BOB, 'ls', 'proj2');
    expect(r).toEqual({ code: 1, out: '', err: 'Error (404): proj2 not found\n' });
  });

  it('reports the server-side validation of a field as 400', async () => {
    const r = await bmi(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'bad/name');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error \(400\): disk_name must be/);
  });

  it('exits 3, naming the URL, when the server cannot be reached', async () => {
    const port = await freePort();
    const r = await cli({ BMI_URL: `http://127.0.0.1:${port}`, HIL_USERNAME: 'a', HIL_PASSWORD: 'b' }, ['ls', 'proj1']);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toContain(`cannot reach the BMI server at http://127.0.0.1:${port}/`);
    expect(r.err).toContain('ECONNREFUSED');
  });

  it('exits 2 on usage errors: missing or extra arguments, unknown command, bad option values', async () => {
    const missing = await bmi(ALICE, 'disk', 'create', 'proj1');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("missing required argument 'img'");

    const extra = await bmi(ALICE, 'ls', 'proj1', 'proj2');
    expect(extra.code).toBe(2);
    expect(extra.err).toContain('too many arguments');

    const unknown = await bmi(ALICE, 'upload', 'proj1');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'upload'");

    const badId = await bmi(ADMIN, 'project', 'create', 'p9', '--id', 'abc');
    expect(badId.code).toBe(2);
    expect(badId.err).toContain('positive whole number');

    const protect = await bmi(ADMIN, 'import', 'proj1', 'centos7', '--protect');
    expect(protect).toEqual({ code: 2, out: '', err: 'Error: --protect is only meaningful with --snap\n' });

    const group = await bmi(ALICE, 'snap');
    expect(group.code).toBe(2);
    expect(group.err).toContain('Usage: bmi snap');
  });

  it('exits 2 on a bad --url, and --url overrides BMI_URL', async () => {
    const bad = await bmi(ALICE, '--url', 'ftp://x', 'ls', 'proj1');
    expect(bad).toEqual({ code: 2, out: '', err: 'Error: invalid server URL "ftp://x": use http:// or https://\n' });
    const good = await cli({ BMI_URL: 'http://127.0.0.1:1', HIL_USERNAME: 'alice', HIL_PASSWORD: 'alicepass' }, [
      '--url',
      url,
      'ls',
      'proj1',
    ]);
    expect(good).toEqual({ code: 0, out: expect.stringContaining('Image'), err: '' });
  });

  it('--help prints the usage on stdout and exits 0, without credentials', async () => {
    const r = await cli({}, ['snap', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: bmi snap create');
    expect(r.out).toContain('Power the node off first');
  });

  it('--json prints parseable JSON, {"status":"Success"} for a plain success', async () => {
    expect(await json(ADMIN, 'import', 'proj1', 'bmi_test')).toEqual({ status: 'Success' });
    expect(await json(ALICE, 'ls', 'proj1')).toEqual(['bmi_test']);
    const target = await json(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'jdisk');
    expect(target).toMatch(/^5img\d+$/);
    // the global option is accepted after the command too
    expect(JSON.parse(await ok(ALICE, 'showdisks', 'proj1', '--json'))).toEqual([['jdisk', 'bmi_test']]);
    expect(await json(ALICE, 'disk', 'delete', 'proj1', 'jdisk')).toEqual({ status: 'Success' });
  });

  it('only admins may list projects', async () => {
    const r = await bmi(ALICE, 'project', 'ls');
    expect(r).toEqual({ code: 1, out: '', err: 'Error (403): User Does Not Have Admin Role\n' });
  });
});

describe('bmi CLI: server address from the config file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 with the config error when there is no config and no URL', async () => {
    const env = { BMI_CONFIG: path.join(dir, 'missing.cfg'), HIL_USERNAME: 'a', HIL_PASSWORD: 'b' };
    const r = await cli(env, ['ls', 'p']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot load ${path.join(dir, 'missing.cfg')}`);
    expect(r.err).toContain('BMI_URL');
  });

  it('reads [rest_api] ip and port, connecting to 127.0.0.1 for 0.0.0.0', async () => {
    const port = new URL(url).port;
    const file = path.join(dir, 'bmiconfig.cfg');
    writeFileSync(
      file,
      [
        '[bmi]',
        'uid = 5',
        '[db]',
        'path = :memory:',
        '[driver]',
        'fs = fake',
        'iscsi = fake',
        'net_isolator = fake',
        '[net_isolator]',
        `fake_seed = ${HIL_SEED_FILE}`,
        '[iscsi]',
        'ip = 10.0.0.1',
        '[tftp]',
        `pxelinux_path = ${dir}/`,
        `ipxe_path = ${dir}/`,
        '[rest_api]',
        'ip = 0.0.0.0',
        `port = ${port}`,
      ].join('\n'),
    );
    const env = { BMI_CONFIG: file, HIL_USERNAME: 'admin', HIL_PASSWORD: 'admin' };
    const r = await cli(env, ['--json', 'project', 'ls']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toContainEqual({ id: 1, name: 'bmi_infra' });
  });
});

describe('bmi CLI: wire format', () => {
  it('sends form-encoded fields with the project first and HTTP Basic credentials', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const stub = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input), init: init ?? {} });
      return new Response('"5img7"', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const r = await cli(
      { BMI_URL: 'http://bmi.example:8000/base', HIL_USERNAME: 'alice', HIL_PASSWORD: 'p:w d' },
      ['disk', 'create', 'proj1', 'img 1', 'disk1'],
      { fetch: stub },
    );
    expect(r).toEqual({ code: 0, out: '5img7\n', err: '' });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('http://bmi.example:8000/base/create_disk');
    expect(seen[0].init.method).toBe('PUT');
    expect(seen[0].init.body).toBe('project=proj1&disk_name=disk1&img=img+1');
    const headers = seen[0].init.headers as Record<string, string>;
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(headers.authorization).toBe(`Basic ${Buffer.from('alice:p:w d').toString('base64')}`);
  });

  it('sends admin-wide commands with the admin project, and flags as "true"', async () => {
    const bodies: string[] = [];
    const stub = (async (_: string | URL | Request, init?: RequestInit) => {
      bodies.push(String(init?.body));
      return new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const env = { BMI_URL: 'http://bmi.example', HIL_USERNAME: 'a', HIL_PASSWORD: 'b', BMI_ADMIN_PROJECT: 'admins' };
    expect((await cli(env, ['db', 'ls', '-s', '-p', '--name', 'x'], { fetch: stub })).code).toBe(0);
    expect(bodies).toEqual(['project=admins&snapshots=true&public=true&filter_name=x']);
  });

  it('shows a JSON error body by its message', async () => {
    const stub = (async () =>
      new Response(JSON.stringify({ message: 'Cannot PUT /x', code: 'NOT_FOUND' }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch;
    const env = { BMI_URL: 'http://bmi.example', HIL_USERNAME: 'a', HIL_PASSWORD: 'b' };
    const r = await cli(env, ['ls', 'p'], { fetch: stub });
    expect(r).toEqual({ code: 1, out: '', err: 'Error (404): Cannot PUT /x\n' });
  });
});

describe('bin/bmi.js', () => {
  const bin = path.resolve(__dirname, '../../bin/bmi.js');

  it('exists, is executable and starts with a node shebang', () => {
    expect(statSync(bin).isFile()).toBe(true);
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('tells the user to run `npm run build` when dist is missing, and exits 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-bin-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      copyFileSync(bin, path.join(dir, 'bin', 'bmi.js'));
      const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'bmi.js'), 'ls', 'p'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('npm run build');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on: bound once, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
