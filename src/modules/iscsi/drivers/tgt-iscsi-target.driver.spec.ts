import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { CommandResult } from '../../../common/process/command-runner';
import { FakeCommandRunner } from '../../../common/process/fake-command-runner';
import { IscsiCommandError, IscsiUnavailableError, TargetExistsError, TargetNotFoundError } from '../iscsi.errors';
import { bindings, TgtIscsiTargetDriver } from './tgt-iscsi-target.driver';

/** Outputs and failures captured from a real tgtd (tgt 1.0.85) by test/fixtures/tgt/capture.sh. */
const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/tgt');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const ERRORS = JSON.parse(fixture('errors.json')) as Record<
  'duplicateName' | 'duplicateTid' | 'invalidName' | 'rbdImageMissing' | 'unknownTid' | 'daemonNotRunning',
  CommandResult
>;
const EMPTY = fixture('show-empty.txt');
const ONE = fixture('show-one-rbd.txt'); // tid 1: iqn.2026-11.org.bmi:5img11
const MIXED = fixture('show-mixed.txt'); // tids 1, 2 (half-made), 4: 5img12 with an ACL

const OPTIONS = { controlPort: 42, pool: 'bmi', cephConf: '/etc/ceph/ceph.conf', cephId: 'bmi', lun: 1 };
const TGTADM = ['tgtadm', '-C', '42', '--lld', 'iscsi'];
const SHOW = [...TGTADM, '--mode', 'target', '--op', 'show'];
const NEW = (tid: number, name: string) => [
  ...TGTADM,
  ...['--mode', 'target', '--op', 'new', '--tid', String(tid), '--targetname', name],
];
const LUN = (tid: number, image: string) => [
  ...TGTADM,
  ...['--mode', 'logicalunit', '--op', 'new', '--tid', String(tid), '--lun', '1', '--bstype', 'rbd'],
  ...['--backing-store', `bmi/${image}`, '--bsopts', 'conf=/etc/ceph/ceph.conf;id=bmi'],
];
const BIND = (tid: number, flag: string, who: string) => [
  ...TGTADM,
  ...['--mode', 'target', '--op', 'bind', '--tid', String(tid), flag, who],
];
const DELETE = (tid: number) => [...TGTADM, '--mode', 'target', '--op', 'delete', '--force', '--tid', String(tid)];

let runner: FakeCommandRunner;
let driver: TgtIscsiTargetDriver;
let logged: string[];

beforeEach(() => {
  runner = new FakeCommandRunner();
  driver = new TgtIscsiTargetDriver(runner, OPTIONS);
  logged = [];
  jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void logged.push(String(m)));
});
afterEach(() => jest.restoreAllMocks());

describe('TgtIscsiTargetDriver.listTargets', () => {
  it('parses --op show into targets: name, image of LUN 1 in the pool, ACL (absent for ALL), CHAP user, sessions', async () => {
    runner.on(SHOW, { stdout: MIXED });
    expect(await driver.listTargets()).toEqual([
      {
        name: '5img12',
        image: '5img12',
        initiators: ['10.0.2.15', '192.168.1.0/24', 'iqn.2026-11.org.bmi:5img12:initiator'],
        sessions: 1,
      },
      { name: 'iqn.2026-11.org.bmi:5img11', image: '5img11' },
      { name: 'iqn.2026-11.org.bmi:half-made', image: '', initiators: [], chap: { user: 'fixture-user' } },
    ]);
    expect(runner.calls).toEqual([SHOW]);
  });

  it('no targets', async () => {
    runner.on(SHOW, { stdout: EMPTY });
    expect(await driver.listTargets()).toEqual([]);
  });

  it('keeps a backing store outside the pool verbatim', async () => {
    runner.on(SHOW, { stdout: ONE.replace('bmi/5img11', 'other/x') });
    expect(await driver.listTargets()).toEqual([{ name: 'iqn.2026-11.org.bmi:5img11', image: 'other/x' }]);
  });

  it('uses control port 0 (tgtadm default socket) as -C 0', async () => {
    driver = new TgtIscsiTargetDriver(runner, { ...OPTIONS, controlPort: 0 });
    runner.on(() => true, { stdout: EMPTY });
    await driver.listTargets();
    expect(runner.calls).toEqual([['tgtadm', '-C', '0', '--lld', 'iscsi', '--mode', 'target', '--op', 'show']]);
  });

  it('output it cannot read is an IscsiCommandError, with the reason in the log', async () => {
    runner.on(SHOW, { stdout: 'Target one: x\n' });
    await expect(driver.listTargets()).rejects.toThrow(IscsiCommandError);
    expect(logged.join('\n')).toMatch(/cannot parse tgtadm --op show output at line 1/);
  });
});

describe('TgtIscsiTargetDriver.addTarget', () => {
  it('makes the target at the lowest free tid, LUN 1 on the RBD image, bound to ALL: exact argv', async () => {
    runner.on(SHOW, { stdout: ONE }).on(() => true, {});
    await driver.addTarget({ name: 'iqn.2026-11.org.bmi:5img12', image: '5img12' });
    expect(runner.calls).toEqual([
      SHOW,
      NEW(2, 'iqn.2026-11.org.bmi:5img12'),
      LUN(2, '5img12'),
      BIND(2, '--initiator-address', 'ALL'),
    ]);
  });

  it('with CHAP: an account of its own, bound to the target, after the ACL; the secret never logged', async () => {
    const ACCOUNT = (op: string, ...rest: string[]) => [...TGTADM, '--mode', 'account', '--op', op, ...rest];
    runner.on(SHOW, { stdout: ONE }).on(() => true, {});
    const chap = { user: 'bmi-5img12', secret: 'Zq81mNVa0pLk3sTu' };
    await driver.addTarget({ name: '5img12', image: '5img12', initiators: ['iqn.x:n1'], chap });
    expect(runner.calls).toEqual([
      SHOW,
      NEW(2, '5img12'),
      LUN(2, '5img12'),
      BIND(2, '--initiator-name', 'iqn.x:n1'),
      ACCOUNT('new', '--user', 'bmi-5img12', '--password', 'Zq81mNVa0pLk3sTu'),
      ACCOUNT('bind', '--tid', '2', '--user', 'bmi-5img12'),
    ]);
    // an account of that name left over (a target half made before): replaced
    const leftover = new FakeCommandRunner();
    const again = new TgtIscsiTargetDriver(leftover, OPTIONS);
    leftover
      .on(SHOW, { stdout: EMPTY })
      .once((argv) => argv.includes('account') && argv.includes('new'), {
        exitCode: 22,
        stderr: 'tgtadm: this account already exists',
      })
      .on(() => true, {});
    await again.addTarget({ name: '5img14', image: '5img14', chap });
    expect(leftover.calls.filter((c) => c.includes('account'))).toEqual([
      ACCOUNT('new', '--user', 'bmi-5img12', '--password', 'Zq81mNVa0pLk3sTu'),
      ACCOUNT('delete', '--user', 'bmi-5img12'),
      ACCOUNT('new', '--user', 'bmi-5img12', '--password', 'Zq81mNVa0pLk3sTu'),
      ACCOUNT('bind', '--tid', '1', '--user', 'bmi-5img12'),
    ]);
    // removing the target removes its account
    runner.calls.length = 0;
    await driver.removeTarget('5img12');
    expect(runner.calls).toEqual([DELETE(2), ACCOUNT('delete', '--user', 'bmi-5img12')]);
    // a failed account call: the target is deleted again, and neither log nor error carries the secret
    runner = new FakeCommandRunner();
    driver = new TgtIscsiTargetDriver(runner, OPTIONS);
    runner
      .on(SHOW, { stdout: EMPTY })
      .on((argv) => argv.includes('--password'), { exitCode: 22, stderr: 'tgtadm: out of memory' })
      .on(() => true, {});
    const e = (await driver.addTarget({ name: '5img13', image: '5img13', chap }).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(IscsiCommandError);
    expect(runner.calls.at(-2)).toEqual(DELETE(1));
    expect(JSON.stringify({ e, details: (e as IscsiCommandError).details, logged })).not.toContain(chap.secret);
    expect(logged.join('\n')).toContain("--password '***'");
  });

  it('refuses CHAP credentials tgtd or iPXE would misread, before any call', async () => {
    for (const chap of [
      { user: 'has space', secret: 'Zq81mNVa0pLk3sTu' },
      { user: 'u', secret: 'short' },
      { user: 'u', secret: 'has;semicolon123' },
    ]) {
      await expect(driver.addTarget({ name: 't1', image: 'i1', chap })).rejects.toThrow(IscsiCommandError);
    }
    expect(runner.calls).toEqual([]);
  });

  it('fills the first gap in the tids', async () => {
    runner.on(SHOW, { stdout: MIXED }).on(() => true, {});
    await driver.addTarget({ name: '5img13', image: '5img13' });
    expect(runner.calls[1]).toEqual(NEW(3, '5img13'));
    expect(runner.calls[2]).toEqual(LUN(3, '5img13'));
  });

  it('exports the configured LUN number', async () => {
    driver = new TgtIscsiTargetDriver(runner, { ...OPTIONS, lun: 3 });
    runner.on(SHOW, { stdout: EMPTY }).on(() => true, {});
    await driver.addTarget({ name: 'a', image: 'a' });
    expect(runner.calls[2]).toEqual(LUN(1, 'a').map((word, i, all) => (all[i - 1] === '--lun' ? '3' : word)));
    expect(runner.calls[2]).toContain('3');
  });

  it('an ACL binds each address (or CIDR) and each initiator name, and not ALL', async () => {
    runner.on(SHOW, { stdout: EMPTY }).on(() => true, {});
    const initiators = ['10.0.2.15', '192.168.1.0/24', 'fd00:99::2', 'iqn.2026-11.org.bmi:5img1:initiator'];
    await driver.addTarget({ name: 'iqn.2026-11.org.bmi:5img1', image: '5img1', initiators });
    expect(runner.calls.slice(3)).toEqual([
      BIND(1, '--initiator-address', '10.0.2.15'),
      BIND(1, '--initiator-address', '192.168.1.0/24'),
      BIND(1, '--initiator-address', 'fd00:99::2'),
      BIND(1, '--initiator-name', 'iqn.2026-11.org.bmi:5img1:initiator'),
    ]);
  });

  it('an empty ACL binds no one', async () => {
    runner.on(SHOW, { stdout: EMPTY }).on(() => true, {});
    await driver.addTarget({ name: 'a', image: 'a', initiators: [] });
    expect(runner.calls).toEqual([SHOW, NEW(1, 'a'), LUN(1, 'a')]);
  });

  it('a name that exists: TargetExistsError once tgtd confirms it, and nothing is changed', async () => {
    runner.on(SHOW, { stdout: MIXED });
    await expect(driver.addTarget({ name: '5img12', image: '5img12' })).rejects.toThrow(TargetExistsError);
    expect(runner.calls).toEqual([SHOW, SHOW]);
  });

  it('a name the driver knew but tgtd lost (a tgtd restart): listed again and made', async () => {
    runner
      .once(SHOW, { stdout: MIXED })
      .once(SHOW, { stdout: EMPTY })
      .on(() => true, {});
    await driver.addTarget({ name: '5img12', image: '5img12' });
    expect(runner.calls).toEqual([
      SHOW,
      SHOW,
      NEW(1, '5img12'),
      LUN(1, '5img12'),
      BIND(1, '--initiator-address', 'ALL'),
    ]);
  });

  it('knows its targets after the first listing: later adds and removes list nothing', async () => {
    runner.once(SHOW, { stdout: ONE }).on(() => true, {});
    await driver.addTarget({ name: 'a', image: 'a' });
    await driver.addTarget({ name: 'b', image: 'b' });
    await driver.removeTarget('a');
    await driver.addTarget({ name: 'c', image: 'c' });
    await driver.removeTarget('iqn.2026-11.org.bmi:5img11');
    expect(runner.calls.filter((argv) => argv.includes('show'))).toEqual([SHOW]);
    expect(runner.calls.filter((argv) => argv.includes('target') && !argv.includes('bind'))).toEqual([
      SHOW,
      NEW(2, 'a'),
      NEW(3, 'b'),
      DELETE(2),
      NEW(2, 'c'),
      DELETE(1),
    ]);
  });

  it.each([
    ['the LUN (the RBD image cannot be opened)', 2],
    ['the ACL', 3],
  ])(
    'when %s fails: the half-made target is deleted, and the error keeps the exit code and stderr for the log only',
    async (_, failingCall) => {
      let n = 0;
      runner.on(SHOW, { stdout: ONE }).on(DELETE(2), {});
      runner.on(
        () => true,
        () => (++n === failingCall ? ERRORS.rbdImageMissing : {}),
      );
      const error = await driver.addTarget({ name: 'iqn.2026-11.org.bmi:5img12', image: '5img12' }).catch((e) => e);
      expect(error).toBeInstanceOf(IscsiCommandError);
      expect(error.status).toBe(500);
      expect(error.command).toMatchObject({ exitCode: 22, stderr: 'tgtadm: invalid request\n' });
      expect(error.message).not.toMatch(/invalid request|22/);
      expect(runner.calls.at(-1)).toEqual(DELETE(2));
      expect(runner.calls).toHaveLength(2 + failingCall);
      expect(logged.join('\n')).toMatch(/exited 22: tgtadm: invalid request/);
    },
  );

  it('when the runner itself throws in the middle, the target is deleted and that error is thrown', async () => {
    const boom = new Error('spawn failed');
    runner.on(SHOW, { stdout: EMPTY }).on(NEW(1, 'a'), {}).on(LUN(1, 'a'), boom).on(DELETE(1), {});
    await expect(driver.addTarget({ name: 'a', image: 'a' })).rejects.toBe(boom);
    expect(runner.calls.at(-1)).toEqual(DELETE(1));
  });

  it('when the clean-up fails too, the first error is thrown and the half-made target is logged', async () => {
    runner
      .on(SHOW, { stdout: EMPTY })
      .on(NEW(1, 'a'), {})
      .on(LUN(1, 'a'), ERRORS.rbdImageMissing)
      .on(DELETE(1), ERRORS.unknownTid);
    await expect(driver.addTarget({ name: 'a', image: 'a' })).rejects.toThrow(/add LUN 1 \(rbd bmi\/a\)/);
    expect(logged.join('\n')).toMatch(/target a \(tid 1\) is left half-made/);
  });

  it('a tid taken by another tgtadm user since the show: looks again and takes the next one', async () => {
    runner
      .once(SHOW, { stdout: EMPTY })
      .once(NEW(1, 'a'), ERRORS.duplicateTid)
      .once(SHOW, { stdout: 'Target 1: someone-else\n' })
      .on(() => true, {});
    await driver.addTarget({ name: 'a', image: 'a' });
    expect(runner.calls).toEqual([
      SHOW,
      NEW(1, 'a'),
      SHOW,
      NEW(2, 'a'),
      LUN(2, 'a'),
      BIND(2, '--initiator-address', 'ALL'),
    ]);
  });

  it('a tid refused even though a new listing shows it free (a listing that raced): not offered again', async () => {
    runner
      .on(SHOW, { stdout: EMPTY })
      .once(NEW(1, 'a'), ERRORS.duplicateTid)
      .on(() => true, {});
    await driver.addTarget({ name: 'a', image: 'a' });
    expect(runner.calls).toEqual([
      SHOW,
      NEW(1, 'a'),
      SHOW,
      NEW(2, 'a'),
      LUN(2, 'a'),
      BIND(2, '--initiator-address', 'ALL'),
    ]);
  });

  it('the same name made by another tgtadm user since the show: TargetExistsError', async () => {
    runner
      .once(SHOW, { stdout: EMPTY })
      .once(NEW(1, 'a'), ERRORS.duplicateName)
      .once(SHOW, { stdout: 'Target 1: a\n' });
    await expect(driver.addTarget({ name: 'a', image: 'a' })).rejects.toThrow(TargetExistsError);
  });

  it('gives up after 5 tids taken in a row', async () => {
    runner.on(SHOW, { stdout: EMPTY }).on((argv) => argv.includes('new'), ERRORS.duplicateTid);
    await expect(driver.addTarget({ name: 'a', image: 'a' })).rejects.toThrow(IscsiCommandError);
    expect(runner.callsStartingWith(...TGTADM, '--mode', 'target', '--op', 'new')).toHaveLength(5);
  });

  it('a name tgtd would refuse ("_", space) is refused before any call', async () => {
    await expect(driver.addTarget({ name: 'bad_name', image: 'x' })).rejects.toThrow(/characters tgtd refuses/);
    await expect(driver.addTarget({ name: 'a', image: 'x', initiators: ['bad name'] })).rejects.toThrow(
      IscsiCommandError,
    );
    expect(runner.calls).toEqual([]);
  });

  it('tgtd refusing the name anyway: IscsiCommandError, nothing left', async () => {
    runner.on(SHOW, { stdout: EMPTY }).on(NEW(1, 'a'), ERRORS.invalidName);
    await expect(driver.addTarget({ name: 'a', image: 'a' })).rejects.toThrow(IscsiCommandError);
    expect(runner.calls).toEqual([SHOW, NEW(1, 'a')]);
  });

  /** A fake tgtd behind the runner: answers show, new and delete like the real one, one call per tick. */
  function fakeTgtd(): Map<number, string> {
    const tgtd = new Map<number, string>();
    runner.on(
      () => true,
      async (argv) => {
        await new Promise((r) => setImmediate(r));
        const op = argv[argv.indexOf('--op') + 1];
        if (op === 'show') return { stdout: [...tgtd].map(([tid, name]) => `Target ${tid}: ${name}\n`).join('') };
        const tid = Number(argv[argv.indexOf('--tid') + 1]);
        if (op === 'new' && argv.includes('target')) {
          const name = argv[argv.indexOf('--targetname') + 1];
          if (tgtd.has(tid) || [...tgtd.values()].includes(name)) return ERRORS.duplicateTid;
          tgtd.set(tid, name);
        }
        if (op === 'delete') {
          if (!tgtd.has(tid)) return ERRORS.unknownTid;
          tgtd.delete(tid);
        }
        return {};
      },
    );
    return tgtd;
  }

  it('concurrent adds run side by side, take distinct tids, and list the targets once', async () => {
    const tgtd = fakeTgtd();
    await Promise.all(['a', 'b', 'c'].map((name) => driver.addTarget({ name, image: name })));
    expect([...tgtd].sort()).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    const ops = runner.calls.map((argv) => argv[argv.indexOf('--op') + 1]);
    expect(ops.filter((op) => op === 'show')).toHaveLength(1);
    // interleaved: the three targets were made side by side, not one after another
    expect(ops.slice(1, 4)).toEqual(['new', 'new', 'new']);
  });

  it('concurrent adds of one name: one is made, the others are TargetExistsError', async () => {
    const tgtd = fakeTgtd();
    const results = await Promise.allSettled([1, 2, 3].map(() => driver.addTarget({ name: 'a', image: 'a' })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const r of results.slice(1)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TargetExistsError);
    expect([...tgtd]).toEqual([[1, 'a']]);
  });

  it('a listing that runs while targets are made and removed keeps what they did', async () => {
    const tgtd = fakeTgtd();
    await driver.addTarget({ name: 'a', image: 'a' });
    await Promise.all([
      driver.listTargets(),
      driver.addTarget({ name: 'b', image: 'b' }),
      driver.removeTarget('a'),
      driver.listTargets(),
    ]);
    runner.calls.length = 0;
    await driver.addTarget({ name: 'c', image: 'c' }); // from the map: tid 1 is free again, 2 is b's
    await driver.removeTarget('b');
    expect([...tgtd]).toEqual([[1, 'c']]);
    expect(runner.calls.map((argv) => argv[argv.indexOf('--op') + 1])).toEqual(['new', 'new', 'bind', 'delete']);
  });
});

describe('TgtIscsiTargetDriver: a delete on its way', () => {
  it('keeps its tid from an add of this process, even when a listing dropped the name meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    runner
      .once(SHOW, { stdout: MIXED }) // 5img12 at tid 4
      .once(DELETE(4), async () => {
        await held; // tgtd has not deleted it yet
        return {};
      })
      // the next listing no longer shows 5img12 (a tgtd that is deleting it, or restarted), tids 1-3 in use
      .on(SHOW, { stdout: 'Target 1: x\nTarget 2: y\nTarget 3: z\n' })
      .on(() => true, {});
    await driver.listTargets();
    const removing = driver.removeTarget('5img12');
    await new Promise((r) => setImmediate(r));
    await driver.listTargets();
    await driver.addTarget({ name: 'a', image: 'a' });
    release();
    await removing;
    // the lowest free tid by the listing was 4, still being deleted: the add took 5
    expect(runner.calls.filter((argv) => argv.includes('new') && argv.includes('target'))).toEqual([NEW(5, 'a')]);
  });
});

describe('TgtIscsiTargetDriver.removeTarget', () => {
  it('with a tgtd shared by several instances: the tid it had is not trusted, the targets are listed afresh', async () => {
    driver = new TgtIscsiTargetDriver(runner, { ...OPTIONS, shared: true });
    // listed at tid 4; another instance then deleted it and made it again at tid 7, and made another at tid 4
    runner
      .once(SHOW, { stdout: MIXED })
      .once(SHOW, { stdout: 'Target 4: 5img77\nTarget 7: 5img12\n' })
      .on(DELETE(7), {});
    await driver.listTargets();
    await driver.removeTarget('5img12');
    expect(runner.calls).toEqual([SHOW, SHOW, DELETE(7)]);
    runner.on(SHOW, { stdout: 'Target 4: 5img77\n' });
    await expect(driver.removeTarget('5img12')).rejects.toThrow(TargetNotFoundError);
    expect(runner.calls).not.toContainEqual(DELETE(4));
  });

  it('finds the tid by name and deletes it with --force: exact argv', async () => {
    runner.on(SHOW, { stdout: MIXED }).on(DELETE(4), {});
    await driver.removeTarget('5img12');
    expect(runner.calls).toEqual([SHOW, DELETE(4)]);
  });

  it('an unknown name: TargetNotFoundError once tgtd confirms it, nothing deleted', async () => {
    runner.on(SHOW, { stdout: MIXED });
    await expect(driver.removeTarget('5img99')).rejects.toThrow(TargetNotFoundError);
    expect(runner.calls).toEqual([SHOW, SHOW]);
  });

  it('a name the driver did not know (made by another instance): listed again and deleted', async () => {
    runner.once(SHOW, { stdout: EMPTY }).once(SHOW, { stdout: MIXED }).on(DELETE(4), {});
    await driver.listTargets();
    await driver.removeTarget('5img12');
    expect(runner.calls).toEqual([SHOW, SHOW, DELETE(4)]);
  });

  it('gone from tgtd (deleted by someone else, or a tgtd restart): TargetNotFoundError', async () => {
    runner.once(SHOW, { stdout: MIXED }).on(SHOW, { stdout: EMPTY }).on(DELETE(4), ERRORS.unknownTid);
    await expect(driver.removeTarget('5img12')).rejects.toThrow(TargetNotFoundError);
    expect(runner.calls).toEqual([SHOW, DELETE(4), SHOW]);
  });

  it('made again at another tid since the driver listed it: found and deleted there', async () => {
    runner
      .once(SHOW, { stdout: MIXED })
      .once(DELETE(4), ERRORS.unknownTid)
      .once(SHOW, { stdout: 'Target 7: 5img12\n' })
      .on(DELETE(7), {});
    await driver.removeTarget('5img12');
    expect(runner.calls).toEqual([SHOW, DELETE(4), SHOW, DELETE(7)]);
  });

  it('any other failure: IscsiCommandError', async () => {
    runner.on(SHOW, { stdout: MIXED }).on(DELETE(4), { exitCode: 1, stderr: 'tgtadm: unknown error\n' });
    await expect(driver.removeTarget('5img12')).rejects.toThrow(IscsiCommandError);
  });
});

describe('TgtIscsiTargetDriver when tgtd cannot be reached', () => {
  it.each([
    ['tgtd is not running on the control port', ERRORS.daemonNotRunning],
    ['tgtadm is not installed', { exitCode: 127, stdout: '', stderr: 'tgtadm: spawn tgtadm ENOENT' }],
    ['tgtadm timed out', { exitCode: 124, stdout: '', stderr: '' }],
  ])('%s: IscsiUnavailableError (503) on every operation', async (_, failure) => {
    runner.on(() => true, failure);
    for (const op of [
      () => driver.listTargets(),
      () => driver.addTarget({ name: 'a', image: 'a' }),
      () => driver.removeTarget('a'),
    ]) {
      const e = await op().catch((x) => x);
      expect(e).toBeInstanceOf(IscsiUnavailableError);
      expect(e.status).toBe(503);
      expect(e.message).toBe('the iSCSI target daemon is not reachable (tgtd on control port 42)');
    }
  });

  it('any other failure of the listing: IscsiCommandError (500)', async () => {
    runner.on(SHOW, { exitCode: 22, stderr: 'tgtadm: invalid request\n' });
    const e = await driver.listTargets().catch((x) => x);
    expect(e).toBeInstanceOf(IscsiCommandError);
    expect(e.status).toBe(500);
  });
});

describe('helpers', () => {
  it('bindings: ALL without an ACL; addresses, CIDRs and IPv6 by address; anything else by name', () => {
    expect(bindings(undefined)).toEqual([['--initiator-address', 'ALL']]);
    expect(bindings([])).toEqual([]);
    expect(bindings(['10.0.0.1', '10.0.0.0/8', '::1', 'fd00::/64', 'iqn.x:y', 'node-01'])).toEqual([
      ['--initiator-address', '10.0.0.1'],
      ['--initiator-address', '10.0.0.0/8'],
      ['--initiator-address', '::1'],
      ['--initiator-address', 'fd00::/64'],
      ['--initiator-name', 'iqn.x:y'],
      ['--initiator-name', 'node-01'],
    ]);
  });
});
