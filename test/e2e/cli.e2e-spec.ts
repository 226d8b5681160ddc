/**
 * The `bmi` CLI end to end: runCli() in-process against the whole app (fake drivers) listening on a real port,
 * every request through the SDK to /v1.
 * One app serves the whole file; the lifecycle tests run in order and build on each other, the way an
 * operator would use the CLI: add projects, import an image, make a disk, boot a node from it, snapshot it,
 * copy and move images, and take it all down again.
 */
import {
  accessSync,
  chmodSync,
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
import { CliDeps, runCli } from '../../src/cli/program';
import { readClientConfig } from '../../src/cli/settings';
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
/** a HOME without a settings file, so that the tester's own ~/.config/bmi plays no part */
let home: string;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'bmi-home-'));
  t = await startTestApp();
  await t.app.listen(0, '127.0.0.1');
  const port = (t.app.getHttpServer().address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await t.close();
  rmSync(home, { recursive: true, force: true });
});

/** Runs `bmi <args>` with exactly the given environment and captures what it prints. */
async function cli(
  env: Env,
  args: string[],
  extra: Partial<Pick<CliDeps, 'fetch' | 'prompt' | 'version'>> = {},
): Promise<Run> {
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

/** `bmi <args>` as the given user, against the test server (the original's HIL_* variables). */
function bmi(user: User, ...args: string[]): Promise<Run> {
  return cli({ BMI_URL: url, HIL_USERNAME: user.username, HIL_PASSWORD: user.password, HOME: home }, args);
}

/** Like bmi(), but expects success and returns stdout. */
async function ok(user: User, ...args: string[]): Promise<string> {
  const r = await bmi(user, ...args);
  if (r.code !== 0) throw new Error(`bmi ${args.join(' ')} exited ${r.code}: ${r.err}`);
  expect(r.err).toBe('');
  return r.out;
}

/** `bmi -f json <args>`, parsed. */
async function json<T = unknown>(user: User, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(user, '-f', 'json', ...args)) as T;
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

/** `op wait`-style polling in the test: the CLI's operation, once it ended. */
async function settled(user: User, op: { id: string; project: string }): Promise<{ state: string }> {
  return json(user, 'op', 'wait', op.project, op.id);
}

interface Record_ {
  id: number;
  name: string;
  project: string;
  ceph_name: string;
  kind: string;
  public: boolean;
  parent: string | null;
}

const PXE_ETH1 = '01-52-54-00-ab-cd-ef';

describe('bmi CLI: a whole lifecycle', () => {
  let diskTarget = '';

  it('project create adds projects, with an explicit id when asked', async () => {
    expect(rows(await ok(ADMIN, 'project', 'create', 'proj1'))).toEqual([
      ['Field', 'Value'],
      ['id', expect.stringMatching(/^\d+$/)],
      ['name', 'proj1'],
    ]);
    expect(await json(ADMIN, 'project', 'create', 'proj2', '--id', '42')).toEqual({ id: 42, name: 'proj2' });
  });

  it('project ls lists every project, the admin project included; -f yaml and -f value too', async () => {
    const table = rows(await ok(ADMIN, 'project', 'ls'));
    expect(table[0]).toEqual(['id', 'name']);
    expect(
      table
        .slice(1)
        .map((r) => r[1])
        .sort(),
    ).toEqual(['bmi_infra', 'proj1', 'proj2']);
    expect(await json(ADMIN, 'project', 'ls')).toContainEqual({ id: 42, name: 'proj2' });
    expect(await ok(ADMIN, 'project', 'ls', '-f', 'yaml')).toContain('- id: 42\n  name: proj2\n');
    expect((await ok(ADMIN, 'project', 'ls', '-f', 'value', '-c', 'name')).split('\n').sort()).toEqual([
      '',
      'bmi_infra',
      'proj1',
      'proj2',
    ]);
  });

  it('import starts an operation; --wait follows it to its end; ls lists the image', async () => {
    const started = await json<{ id: string; project: string; kind: string }>(ADMIN, 'import', 'proj1', 'bmi_test');
    expect(started).toMatchObject({ kind: 'import_image', project: 'proj1' });
    expect((await settled(ADMIN, started)).state).toBe('done');
    expect(await json(ALICE, 'ls', 'proj1')).toEqual([
      { name: 'bmi_test', kind: 'golden', parent: null, public: false, exported: false },
    ]);
    expect(await ok(ALICE, 'ls', 'proj1', '-f', 'value', '-c', 'name')).toBe('bmi_test\n');
  });

  it('import --snap --protect --wait imports an existing snapshot and leaves it as it was', async () => {
    await t.storage.createSnapshot('centos7', 'golden');
    const done = await json(ADMIN, 'import', 'proj2', 'centos7', '--snap', 'golden', '--protect', '--wait');
    expect(done).toMatchObject({ kind: 'import_snapshot', state: 'done', error: null });
    expect(await ok(BOB, 'ls', 'proj2', '-f', 'value', '-c', 'name')).toBe('centos7\n');
    expect(await t.storage.listSnapshots('centos7')).toEqual([{ name: 'golden', protected: false }]);
  });

  it('disk create prints the disk and its iSCSI target; -c target -f value the target alone', async () => {
    const disk = await json<{ target: string; uri: string }>(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'disk1');
    expect(disk).toMatchObject({ name: 'disk1', image: 'bmi_test', portal: '10.0.0.1:3260', lun: 1, exported: true });
    diskTarget = disk.target;
    expect(disk.uri).toBe(`iscsi:10.0.0.1:tcp:3260:1:${diskTarget}`);
    expect(await ok(ALICE, 'disk', 'show', 'proj1', 'disk1', '-f', 'value', '-c', 'target')).toBe(`${diskTarget}\n`);
    expect((await t.iscsi.listTargets()).map((x) => x.name)).toContain(diskTarget);
  });

  it('pro writes the boot files of the node for the NIC (pxelinux name lower-cased); node boot reads them', async () => {
    const boot = { node: 'node-01', disk: 'disk1', nic: 'eth1', mac: '52:54:00:ab:cd:ef', target: diskTarget };
    expect(await json(ALICE, 'pro', 'proj1', 'node-01', 'disk1', 'eth1')).toEqual(boot);
    expect(readFileSync(path.join(t.tftpRoot, 'node-01.ipxe'), 'utf8')).toContain(
      `iscsi:10.0.0.1:tcp:3260:1:${diskTarget}`,
    );
    expect(readFileSync(path.join(t.pxelinuxDir, PXE_ETH1), 'utf8')).toContain('INITRD node-01.ipxe');
    expect(await json(ALICE, 'node', 'boot', 'proj1', 'node-01')).toEqual(boot);
  });

  it('showdisks lists the disk, its source image and its target', async () => {
    expect(rows(await ok(ALICE, 'showdisks', 'proj1', '-c', 'name', '-c', 'image', '-c', 'target'))).toEqual([
      ['name', 'image', 'target'],
      ['disk1', 'bmi_test', diskTarget],
    ]);
  });

  it('op ls lists the journal, newest first: what each operation acted on and how far it got', async () => {
    const ops = await json<{ kind: string; project: string; actor: string; state: string; args: object }[]>(
      ADMIN,
      'op',
      'ls',
      '--limit',
      '2',
    );
    expect(ops.map((o) => [o.kind, o.project, o.actor, o.state])).toEqual([
      ['provision', 'proj1', 'alice', 'done'],
      ['create_disk', 'proj1', 'alice', 'done'],
    ]);
    expect(ops[0].args).toEqual({ node: 'node-01', disk: 'disk1', nic: 'eth1' });
    expect(await json(ADMIN, 'op', 'ls', '--state', 'failed')).toEqual([]);
    const refused = await bmi(ALICE, 'op', 'ls');
    expect(refused.code).toBe(4);
    expect(refused.err).toBe('Error (403 ADMIN_REQUIRED): User Does Not Have Admin Role\n');
    // a member lists the operations of their project
    expect((await json<{ kind: string }[]>(ALICE, 'op', 'ls', '--project', 'proj1', '--limit', '1'))[0].kind).toBe(
      'provision',
    );
  });

  it('audit lists the mutations, newest first, filtered (admin)', async () => {
    const rows = await json<{ actor: string; action: string; resource: string; status: number; result: string }[]>(
      ADMIN,
      'audit',
      '--actor',
      'alice',
      '--action',
      'putBoot',
      '--limit',
      '1',
    );
    expect(rows).toEqual([expect.objectContaining({ actor: 'alice', action: 'putBoot', status: 200, result: 'ok' })]);
    expect(rows[0].resource).toMatch(/node=node-01/);
    expect((await bmi(ALICE, 'audit')).code).toBe(4);
  });

  it('snap create --wait draws its progress on a terminal and saves the disk as a snapshot', async () => {
    let err = '';
    let out = '';
    const code = await runCli(['node', 'bmi', '-f', 'json', 'snap', 'create', 'proj1', 'disk1', 'snap1', '--wait'], {
      env: { BMI_URL: url, HIL_USERNAME: ALICE.username, HIL_PASSWORD: ALICE.password, HOME: home },
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s), isTTY: true },
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ kind: 'create_snapshot', state: 'done', progress: '100%' });
    expect(err).toMatch(/\[#{30}\] 100%/);
    expect(err.endsWith('\n')).toBe(true);
    expect(await ok(ALICE, 'snap', 'ls', 'proj1', '-f', 'value', '-c', 'name', '-c', 'parent')).toBe(
      'snap1 bmi_test\n',
    );
  });

  it('cp and mv within a project work for a project member', async () => {
    expect(await json(ALICE, 'cp', 'proj1', 'snap1', 'proj1', 'snap1copy', '--wait')).toMatchObject({ state: 'done' });
    expect(await json(ALICE, 'mv', 'proj1', 'snap1copy', 'proj1', 'snap1moved')).toMatchObject({ name: 'snap1moved' });
    expect(await ok(ALICE, 'snap', 'ls', 'proj1', '-f', 'value', '-c', 'name')).toBe('snap1\nsnap1moved\n');
  });

  it('cp and mv into another project need an admin', async () => {
    const refused = await bmi(ALICE, 'cp', 'proj1', 'bmi_test', 'proj2', 'x');
    expect(refused).toEqual({ code: 4, out: '', err: 'Error (403 ADMIN_REQUIRED): User Does Not Have Admin Role\n' });
    expect(await json(ADMIN, 'cp', 'proj1', 'bmi_test', 'proj2', 'bmi_copy', '--wait')).toMatchObject({
      state: 'done',
    });
    expect(await ok(BOB, 'ls', 'proj2', '-f', 'value', '-c', 'name')).toBe('bmi_copy\ncentos7\n');
    expect(await json(ADMIN, 'mv', 'proj2', 'bmi_copy', 'proj1', 'golden2')).toMatchObject({ name: 'golden2' });
    expect(await ok(BOB, 'ls', 'proj2', '-f', 'value', '-c', 'name')).toBe('centos7\n');
    expect(await ok(ALICE, 'ls', 'proj1', '-f', 'value', '-c', 'name')).toBe('bmi_test\ngolden2\n');
  });

  it('export copies an image out to a raw pool image', async () => {
    expect(await t.storage.imageExists('bmi_test_export')).toBe(false);
    expect(await json(ADMIN, 'export', 'proj1', 'bmi_test', 'bmi_test_export', '--wait')).toMatchObject({
      kind: 'export_image',
      state: 'done',
    });
    expect(await t.storage.imageExists('bmi_test_export')).toBe(true);
    expect(await t.storage.parentOf('bmi_test_export')).toBeNull();
  });

  it('db ls shows every record in a table', async () => {
    const table = rows(await ok(ADMIN, 'db', 'ls'));
    expect(table[0]).toEqual(['id', 'name', 'project', 'ceph_name', 'kind', 'public', 'parent']);
    const disk = table.find((r) => r[1] === 'disk1');
    expect(disk).toEqual([expect.any(String), 'disk1', 'proj1', diskTarget, 'disk', 'false', 'bmi_test']);
    expect(
      table
        .slice(1)
        .map((r) => r[1])
        .sort(),
    ).toEqual(['bmi_test', 'centos7', 'disk1', 'golden2', 'snap1', 'snap1moved']);
  });

  it('db ls filters by kind (-s, --clones) and by --project, --name and --ceph', async () => {
    const snaps = await json<Record_[]>(ADMIN, 'db', 'ls', '-s');
    expect(snaps.map((r) => r.name).sort()).toEqual(['snap1', 'snap1moved']);
    expect(snaps.every((r) => r.kind === 'snapshot')).toBe(true);
    expect((await json<Record_[]>(ADMIN, 'db', 'ls', '--clones')).map((r) => r.name)).toEqual(['disk1']);
    expect((await json<Record_[]>(ADMIN, 'db', 'ls', '-s', '--clones')).map((r) => r.name).sort()).toEqual([
      'disk1',
      'snap1',
      'snap1moved',
    ]);
    expect((await json<Record_[]>(ADMIN, 'db', 'ls', '--project', 'proj2')).map((r) => r.name)).toEqual(['centos7']);
    const byName = await json<Record_[]>(ADMIN, 'db', 'ls', '--name', 'disk1', '--ceph', diskTarget);
    expect(byName).toEqual([expect.objectContaining({ name: 'disk1', project: 'proj1', parent: 'bmi_test' })]);
    expect(await json(ADMIN, 'db', 'ls', '--name', 'disk1', '--project', 'proj2')).toEqual([]);
  });

  it('db create adds a record and prints it; db rm deletes it', async () => {
    const made = await json(ADMIN, 'db', 'create', 'proj2', 'manual', '--id', '900', '--public', '--parent', 'centos7');
    const record = {
      id: 900,
      name: 'manual',
      project: 'proj2',
      ceph_name: '5img900',
      kind: 'disk',
      public: true,
      parent: 'centos7',
    };
    expect(made).toEqual(record);
    expect(await json(ADMIN, 'db', 'ls', '-p')).toEqual([record]);
    expect(await ok(ADMIN, 'db', 'rm', 'proj2', 'manual')).toBe('Success\n');
    expect(await json(ADMIN, 'db', 'ls', '--name', 'manual')).toEqual([]);
  });

  it('iscsi create, ls and rm export an image directly', async () => {
    const [golden] = await json<Record_[]>(ADMIN, 'db', 'ls', '--project', 'proj1', '--name', 'bmi_test');
    expect(await ok(ADMIN, 'iscsi', 'create', 'proj1', 'bmi_test', '-f', 'value', '-c', 'target')).toBe(
      `${golden.ceph_name}\n`,
    );
    expect(await ok(ADMIN, 'iscsi', 'ls', 'proj1', '-f', 'value', '-c', 'image', '-c', 'target')).toBe(
      `bmi_test ${golden.ceph_name}\ndisk1 ${diskTarget}\n`,
    );
    expect(await ok(ADMIN, 'iscsi', 'rm', 'proj1', 'bmi_test')).toBe('Success\n');
    expect(await ok(ADMIN, 'iscsi', 'ls', 'proj1', '-f', 'value', '-c', 'image')).toBe('disk1\n');
  });

  it('node ip prints the address dnsmasq leased to the node', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(t.config.tftp.leasesFile, `${expiry} 52:54:00:ab:cd:ef 10.0.0.55 node-01 *\n`);
    expect(await ok(ALICE, 'node', 'ip', 'proj1', 'node-01', '--nic', 'eth1', '-f', 'value', '-c', 'ip')).toBe(
      '10.0.0.55\n',
    );
    expect(await json(ALICE, 'node', 'ip', 'proj1', 'node-01')).toEqual({ ip: '10.0.0.55', node: 'node-01' });
    const none = await bmi(ALICE, 'node', 'ip', 'proj1', 'node-01', '--nic', 'eth0');
    expect(none).toEqual({
      code: 5,
      out: '',
      err: 'Error (404 NO_LEASE): 52:54:00:12:34:56 Has Not Been Assigned An IP Yet\n',
    });
  });

  it('dpro removes the boot files and leaves the disk; the NIC defaults to the one booted from', async () => {
    expect(await ok(ALICE, 'dpro', 'proj1', 'node-01')).toBe('Success\n');
    expect(existsSync(path.join(t.tftpRoot, 'node-01.ipxe'))).toBe(false);
    expect(existsSync(path.join(t.pxelinuxDir, PXE_ETH1))).toBe(false);
    expect(await ok(ALICE, 'showdisks', 'proj1', '-f', 'value', '-c', 'name')).toBe('disk1\n');
  });

  it('snap rm removes snapshots', async () => {
    expect(await ok(ALICE, 'snap', 'rm', 'proj1', 'snap1')).toBe('Success\n');
    expect(await ok(ALICE, 'snap', 'rm', 'proj1', 'snap1moved')).toBe('Success\n');
    expect(rows(await ok(ALICE, 'snap', 'ls', 'proj1'))).toEqual([['name', 'kind', 'parent', 'public', 'exported']]);
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
    expect(await json(ALICE, 'ls', 'proj1')).toEqual([]);
    expect(await json(ADMIN, 'db', 'ls')).toEqual([]);
  });

  it('project rm deletes the (now empty) projects', async () => {
    expect(await ok(ADMIN, 'project', 'rm', 'proj1')).toBe('Success\n');
    expect(await ok(ADMIN, 'project', 'rm', 'proj2')).toBe('Success\n');
    expect(await json(ADMIN, 'project', 'ls')).toEqual([{ id: 1, name: 'bmi_infra' }]);
  });
});

describe('bmi CLI: failures and exit codes', () => {
  beforeAll(async () => {
    await ok(ADMIN, 'project', 'create', 'proj1');
    await json(ADMIN, 'import', 'proj1', 'bmi_test', '--wait');
  });

  it('without a user name: exit 2, naming where to set one', async () => {
    const r = await cli({ BMI_URL: url, HIL_PASSWORD: 'alicepass', HOME: home }, ['ls', 'proj1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no user name: set BMI_USERNAME');
  });

  it('without a password and without a terminal: exit 2; with one, the password is asked for', async () => {
    const env = { BMI_URL: url, BMI_USERNAME: 'alice', HOME: home };
    const none = await cli(env, ['ls', 'proj1'], { prompt: async () => undefined });
    expect(none.code).toBe(2);
    expect(none.err).toContain('no password');
    const asked: string[] = [];
    const r = await cli(env, ['ls', 'proj1', '-f', 'value', '-c', 'name'], {
      prompt: async (question) => {
        asked.push(question);
        return 'alicepass';
      },
    });
    expect(r).toEqual({ code: 0, out: 'bmi_test\n', err: '' });
    expect(asked).toEqual(['Password for alice: ']);
  });

  it('BMI_USERNAME and BMI_PASSWORD win over HIL_USERNAME and HIL_PASSWORD', async () => {
    const env = {
      BMI_URL: url,
      BMI_USERNAME: 'alice',
      BMI_PASSWORD: 'alicepass',
      HIL_USERNAME: 'x',
      HIL_PASSWORD: 'y',
    };
    expect((await cli({ ...env, HOME: home }, ['ls', 'proj1'])).code).toBe(0);
  });

  it('a settings file gives the URL and the credentials; one with a password readable by others is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bmi-home-'));
    try {
      const file = path.join(dir, '.config', 'bmi', 'config');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `url = ${url}\nusername = alice\npassword = alicepass\n`, { mode: 0o600 });
      const r = await cli({ HOME: dir }, ['ls', 'proj1', '-f', 'value', '-c', 'name']);
      expect(r).toEqual({ code: 0, out: 'bmi_test\n', err: '' });
      chmodSync(file, 0o644);
      const open = await cli({ HOME: dir }, ['ls', 'proj1']);
      expect(open.code).toBe(2);
      expect(open.err).toContain(`chmod 600 ${file}`);
      // values are literal to the end of the line; the file's password is its own user's only
      const literal = path.join(dir, 'literal.cfg');
      writeFileSync(literal, `# a comment\nurl = ${url}\nusername = admin\npassword = admin\n`, { mode: 0o600 });
      const asAdmin = await cli({ HOME: dir, BMI_CLIENT_CONFIG: literal }, [
        'project',
        'ls',
        '-f',
        'value',
        '-c',
        'name',
      ]);
      expect(asAdmin.out).toContain('proj1\n');
      const asked: string[] = [];
      const otherUser = await cli(
        { HOME: dir, BMI_CLIENT_CONFIG: literal, BMI_USERNAME: 'alice' },
        ['ls', 'proj1', '-f', 'value', '-c', 'name'],
        { prompt: async (q) => (asked.push(q), 'alicepass') },
      );
      expect([otherUser.code, asked]).toEqual([0, ['Password for alice: ']]);
      writeFileSync(literal, `url = ${url}\nusername = x\npassword = pa#ss;w\\rd\n`, { mode: 0o600 });
      expect(readClientConfig(literal).password).toBe('pa#ss;w\\rd');
      // BMI_CLIENT_CONFIG names another file
      const other = path.join(dir, 'other.cfg');
      writeFileSync(other, `url = ${url}\nusername = alice\n`);
      const viaEnv = await cli({ HOME: dir, BMI_CLIENT_CONFIG: other, BMI_PASSWORD: 'alicepass' }, ['ls', 'proj1']);
      expect(viaEnv.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refused credentials: exit 4, without echoing the password', async () => {
    const r = await bmi({ username: 'alice', password: 'not-the-secret' }, 'ls', 'proj1');
    expect(r).toEqual({ code: 4, out: '', err: 'Error (401 HIL_AUTHENTICATION_FAILED): Authentication Failed\n' });
  });

  it('not found: exit 5 (an unknown image, an unknown project)', async () => {
    expect(await bmi(ALICE, 'disk', 'create', 'proj1', 'nosuch', 'd2')).toEqual({
      code: 5,
      out: '',
      err: 'Error (404 IMAGE_NOT_FOUND): nosuch not found\n',
    });
    expect(await bmi(BOB, 'ls', 'proj2')).toEqual({
      code: 5,
      out: '',
      err: 'Error (404 PROJECT_NOT_FOUND): proj2 not found\n',
    });
  });

  it('conflict: exit 6 (a disk that exists)', async () => {
    await ok(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'twice');
    const r = await bmi(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'twice');
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/^Error \(409 DISK_EXISTS\): Disk exists/);
    await ok(ALICE, 'disk', 'delete', 'proj1', 'twice');
  });

  it('a field BMI refuses: exit 2 with its message', async () => {
    const r = await bmi(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'bad/name');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Error \(400 BAD_REQUEST\): name must be/);
  });

  it('exits 3, naming the URL, when the server cannot be reached', async () => {
    const port = await freePort();
    const r = await cli({ BMI_URL: `http://127.0.0.1:${port}`, HIL_USERNAME: 'a', HIL_PASSWORD: 'b', HOME: home }, [
      'ls',
      'proj1',
    ]);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toContain(`cannot reach the BMI server at http://127.0.0.1:${port}`);
    expect(r.err).toContain('ECONNREFUSED');
  });

  it('an unknown column is refused before anything is done', async () => {
    const r = await bmi(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'never', '-c', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown column bogus');
    expect(await ok(ALICE, 'showdisks', 'proj1', '-f', 'value', '-c', 'name')).not.toContain('never');
  });

  it('exits 2 on usage errors: arguments, unknown command, bad option values, unknown column', async () => {
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
    const format = await bmi(ALICE, 'ls', 'proj1', '-f', 'xml');
    expect(format.code).toBe(2);
    expect(format.err).toContain('table, json, yaml, value');
    const column = await bmi(ALICE, 'ls', 'proj1', '-c', 'nope');
    expect(column).toEqual({
      code: 2,
      out: '',
      err: 'Error: unknown column nope: choose from name, kind, parent, public, exported\n',
    });
    const group = await bmi(ALICE, 'snap');
    expect(group.code).toBe(2);
    expect(group.err).toContain('Usage: bmi snap');
  });

  it('exits 2 on a bad --url, and --url overrides BMI_URL', async () => {
    const bad = await bmi(ALICE, '--url', 'ftp://x', 'ls', 'proj1');
    expect(bad).toEqual({ code: 2, out: '', err: 'Error: invalid server URL "ftp://x": use http:// or https://\n' });
    const good = await cli(
      { BMI_URL: 'http://127.0.0.1:1', HIL_USERNAME: 'alice', HIL_PASSWORD: 'alicepass', HOME: home },
      ['--url', url, 'ls', 'proj1'],
    );
    expect(good).toEqual({ code: 0, out: expect.stringContaining('bmi_test'), err: '' });
  });

  it('--help prints the usage on stdout and exits 0, without credentials; --version prints the version', async () => {
    const r = await cli({}, ['snap', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: bmi snap create');
    expect(r.out).toContain('Power the node off first');
    const top = await cli({}, ['--help']);
    expect(top.out).toContain('Exit codes:');
    expect(await cli({}, ['--version'], { version: '1.2.3' })).toEqual({ code: 0, out: '1.2.3\n', err: '' });
  });

  it('--json is -f json; a command that returns nothing prints {"status":"Success"}', async () => {
    await ok(ALICE, 'disk', 'create', 'proj1', 'bmi_test', 'jdisk');
    expect(JSON.parse(await ok(ALICE, 'showdisks', 'proj1', '--json'))).toEqual([
      expect.objectContaining({ name: 'jdisk', image: 'bmi_test' }),
    ]);
    expect(await json(ALICE, 'disk', 'delete', 'proj1', 'jdisk')).toEqual({ status: 'Success' });
  });

  it('an operation refused before it starts: its own error and exit code, no operation', async () => {
    const r = await bmi(ADMIN, 'export', 'proj1', 'bmi_test', 'centos7', '--wait');
    // centos7 exists in the pool
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/^Error \(409 RBD_IMAGE_EXISTS\)/);
  });
});

describe('bmi CLI: server address from the server config file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bmi-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 with the config error when there is no config and no URL', async () => {
    const env = { BMI_CONFIG: path.join(dir, 'missing.cfg'), HIL_USERNAME: 'a', HIL_PASSWORD: 'b', HOME: home };
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
    const env = { BMI_CONFIG: file, HIL_USERNAME: 'admin', HIL_PASSWORD: 'admin', HOME: home };
    const r = await cli(env, ['-f', 'json', 'project', 'ls']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toContainEqual({ id: 1, name: 'bmi_infra' });
  });
});

describe('bmi CLI: on the wire', () => {
  it('sends JSON to the /v1 route, with UTF-8 HTTP Basic credentials', async () => {
    const seen: Request[] = [];
    const stub = (async (input: Request) => {
      seen.push(input.clone());
      const disk = {
        name: 'disk1',
        image: 'img1',
        exported: true,
        iscsi: { target: '5img7', portal: 'p', lun: 1, uri: 'u' },
      };
      return new Response(JSON.stringify(disk), { status: 201, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const r = await cli(
      { BMI_URL: 'http://bmi.example:8000/base', HIL_USERNAME: 'alice', HIL_PASSWORD: 'p:w dé', HOME: home },
      ['disk', 'create', 'proj1', 'img1', 'disk1', '-f', 'value', '-c', 'target'],
      { fetch: stub },
    );
    expect(r).toEqual({ code: 0, out: '5img7\n', err: '' });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('http://bmi.example:8000/base/v1/projects/proj1/disks');
    expect(seen[0].method).toBe('POST');
    expect(await seen[0].json()).toEqual({ name: 'disk1', image: 'img1' });
    expect(seen[0].headers.get('content-type')).toBe('application/json');
    expect(seen[0].headers.get('authorization')).toBe(
      `Basic ${Buffer.from('alice:p:w dé', 'utf8').toString('base64')}`,
    );
  });

  it('shows an answer that is not BMI’s error body by its status', async () => {
    const stub = (async () => new Response('<html>proxy error</html>', { status: 502 })) as unknown as typeof fetch;
    const r = await cli(
      { BMI_URL: 'http://bmi.example', HIL_USERNAME: 'a', HIL_PASSWORD: 'b', HOME: home },
      ['ls', 'p'],
      {
        fetch: stub,
      },
    );
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'Error (502 UNEXPECTED_RESPONSE): BMI answered 502 without an error body\n',
    });
  });
});

describe('bmi op wait', () => {
  it('an operation that did not end done: exit 1 with its state and error, after printing it', async () => {
    const op = {
      id: 'op-1',
      kind: 'copy_image',
      project: 'proj1',
      actor: 'alice',
      state: 'rolled_back',
      args: {},
      steps: [],
      error: 'flatten 5img9: Ceph said no',
      progress: null,
      started: '2026-11-29T00:00:00.000Z',
      updated: '2026-11-29T00:00:01.000Z',
    };
    const stub = (async () =>
      new Response(JSON.stringify(op), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })) as unknown as typeof fetch;
    const r = await cli(
      { BMI_URL: 'http://bmi.example', HIL_USERNAME: 'a', HIL_PASSWORD: 'b', HOME: home },
      ['op', 'wait', 'proj1', 'op-1', '-f', 'value', '-c', 'state'],
      {
        fetch: stub,
      },
    );
    expect(r).toEqual({
      code: 1,
      out: 'rolled_back\n',
      err: 'Error: operation op-1 ended rolled_back: flatten 5img9: Ceph said no\n',
    });
  });
});

describe('bmi op wait, through recovery', () => {
  it('waits through interrupted, and takes rolled_forward (completed by recovery) as success', async () => {
    const states = ['interrupted', 'rolled_forward'];
    const seenStates: string[] = [];
    const stub = (async () => {
      const state = states.shift() ?? 'rolled_forward';
      seenStates.push(state);
      const op = { id: 'op-2', kind: 'copy_image', project: 'proj1', actor: 'a', state, args: {}, steps: [] };
      const body = {
        ...op,
        error: null,
        progress: null,
        started: '2026-11-29T00:00:00.000Z',
        updated: '2026-11-29T00:00:00.000Z',
      };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const r = await cli(
      { BMI_URL: 'http://bmi.example', HIL_USERNAME: 'a', HIL_PASSWORD: 'b', HOME: home },
      ['op', 'wait', 'proj1', 'op-2', '-f', 'value', '-c', 'state'],
      { fetch: stub },
    );
    expect(r).toEqual({ code: 0, out: 'rolled_forward\n', err: '' });
    expect(seenStates).toEqual(['interrupted', 'rolled_forward']);
  });
});

describe('bmi completion', () => {
  it('prints a bash script that completes commands, subcommands and options', async () => {
    const script = (await cli({}, ['completion', 'bash'])).out;
    expect(script).toContain('complete -F _bmi_complete bmi');
    const complete = (words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _bmi_complete; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    expect(complete(['bmi', 'dis'])).toBe('disk');
    expect(complete(['bmi', 'disk', 'c'])).toBe('create');
    expect(complete(['bmi', 'snap', 'create', 'proj1', '--w'])).toBe('--wait');
    expect(complete(['bmi', 'ls', '--fo'])).toBe('--format');
  });

  it('prints a zsh script (through bashcompinit); other shells are a usage error', async () => {
    const zsh = await cli({}, ['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.out).toContain('bashcompinit');
    expect((await cli({}, ['completion', 'fish'])).code).toBe(2);
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
