import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CephRbdStorage } from '../../src/modules/images/storage/ceph-rbd.storage';
import { TgtIscsiTargetDriver } from '../../src/modules/iscsi/drivers/tgt-iscsi-target.driver';
import { parseTargetShow } from '../../src/modules/iscsi/drivers/tgt-show.parser';
import { IscsiCommandError, TargetExistsError, TargetNotFoundError } from '../../src/modules/iscsi/iscsi.errors';
import { canLogIn, describeWithTgt, lunSize, tgtDriverFor, tgtHas, tgtShow } from '../utils/tgt-env';

const MiB = 1 << 20;

/**
 * TgtIscsiTargetDriver against a real tgtd (scripts/tgt-local.sh) exporting real RBD clones from the test Ceph:
 * what tgtadm --op show says and what an iSCSI initiator (libiscsi's iscsi-inq) can do are checked, not only
 * what the driver reports. Names carry a random tag: other test files share the tgtd and the pool.
 */
describeWithTgt('the tgt driver against a real tgtd and RBD clones', (env) => {
  const tag = randomBytes(3).toString('hex');
  const golden = `tgt-golden-${tag}`;
  const clones = [1, 2, 3].map((i) => `t${tag}img${i}`);
  const iqn = (image: string) => `iqn.2026-11.org.bmi.test:${image}`;
  let ceph: CephRbdStorage;
  let driver: TgtIscsiTargetDriver;
  const ours = async () => (await driver.listTargets()).filter((t) => t.name.includes(tag));

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    ceph = await CephRbdStorage.connect({ ...env.ceph, timeoutSeconds: 20 });
    await ceph.createImage(golden, 64 * MiB);
    await ceph.createSnapshot(golden, 'snapshot');
    await ceph.protectSnapshot(golden, 'snapshot');
    for (const c of clones) await ceph.clone(golden, 'snapshot', c);
    driver = tgtDriverFor(env);
  });

  afterEach(async () => {
    for (const t of await ours()) await driver.removeTarget(t.name);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    for (const c of clones) if (await ceph.imageExists(c)) await ceph.removeImage(c);
    await ceph.unprotectSnapshot(golden, 'snapshot');
    await ceph.removeSnapshot(golden, 'snapshot');
    await ceph.removeImage(golden);
    await ceph.close();
  });

  it('add: tgtd has the target, LUN 1 is the RBD clone, and an initiator reads its 64 MiB', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    expect(await ours()).toEqual([{ name: iqn(clones[0]), image: clones[0] }]);
    expect(tgtHas(env.controlPort, iqn(clones[0]))).toBe(true);
    const show = tgtShow(env.controlPort);
    expect(show).toContain(`Backing store path: ${env.ceph.pool}/${clones[0]}`);
    expect(canLogIn(env.portal, iqn(clones[0]))).toBe(true);
    expect(lunSize(env.portal, iqn(clones[0]))).toBe(64 * MiB);
  });

  it('list: several targets, each with its image; remove: gone from tgtd, and no initiator gets in', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    await driver.addTarget({ name: clones[1], image: clones[1] }); // the original's bare-name scheme
    expect(await ours()).toEqual([
      { name: iqn(clones[0]), image: clones[0] },
      { name: clones[1], image: clones[1] },
    ]);
    const tids = parseTargetShow(tgtShow(env.controlPort))
      .filter((t) => t.name.includes(tag))
      .map((t) => t.tid);
    expect(new Set(tids).size).toBe(2);

    await driver.removeTarget(iqn(clones[0]));
    expect(tgtHas(env.controlPort, iqn(clones[0]))).toBe(false);
    expect(canLogIn(env.portal, iqn(clones[0]))).toBe(false);
    expect(await ours()).toEqual([{ name: clones[1], image: clones[1] }]);
    expect(canLogIn(env.portal, clones[1])).toBe(true);
  });

  it('a name that exists: TargetExistsError, and the target is left as it was', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    await expect(driver.addTarget({ name: iqn(clones[0]), image: clones[1] })).rejects.toThrow(TargetExistsError);
    expect(await ours()).toEqual([{ name: iqn(clones[0]), image: clones[0] }]);
    expect(canLogIn(env.portal, iqn(clones[0]))).toBe(true);
  });

  it('removing a name tgtd does not have: TargetNotFoundError', async () => {
    await expect(driver.removeTarget(iqn(`t${tag}img404`))).rejects.toThrow(TargetNotFoundError);
  });

  it('an RBD image that does not exist: IscsiCommandError, and no half-made target is left in tgtd', async () => {
    const name = iqn(`t${tag}img404`);
    const error = await driver.addTarget({ name, image: `t${tag}img404` }).catch((e) => e);
    expect(error).toBeInstanceOf(IscsiCommandError);
    expect(error.command.exitCode).toBe(22);
    expect(tgtHas(env.controlPort, name)).toBe(false);
  });

  it('ACL by initiator name: only that initiator logs in; the list reports the ACL', async () => {
    const allowed = `${iqn(clones[2])}:initiator`;
    await driver.addTarget({ name: iqn(clones[2]), image: clones[2], initiators: [allowed] });
    expect(await ours()).toEqual([{ name: iqn(clones[2]), image: clones[2], initiators: [allowed] }]);
    expect(canLogIn(env.portal, iqn(clones[2]), allowed)).toBe(true);
    expect(canLogIn(env.portal, iqn(clones[2]), 'iqn.2026-11.org.bmi.test:another-node')).toBe(false);
  });

  it('CHAP: only the initiator named, with the account’s secret, logs in; tgtd refuses the rest', async () => {
    const node = 'iqn.2026-11.org.bmi.node:0123456789abcdef01234567';
    const chap = { user: `bmi-${tag}0000000000`, secret: 'Zq81mNVa0pLk3sTu' };
    await driver.addTarget({ name: iqn(clones[1]), image: clones[1], initiators: [node], chap });
    expect(await ours()).toEqual([
      { name: iqn(clones[1]), image: clones[1], initiators: [node], chap: { user: chap.user } },
    ]);
    expect(canLogIn(env.portal, iqn(clones[1]), node, chap)).toBe(true);
    expect(canLogIn(env.portal, iqn(clones[1]), node)).toBe(false); // no credentials
    expect(canLogIn(env.portal, iqn(clones[1]), node, { ...chap, secret: 'Zq81mNVa0pLk3sTv' })).toBe(false);
    expect(canLogIn(env.portal, iqn(clones[1]), 'iqn.2026-11.org.bmi.node:guessed', chap)).toBe(false);
    expect(tgtShow(env.controlPort)).not.toContain(chap.secret);
    // removing the target removes its account from tgtd
    await driver.removeTarget(iqn(clones[1]));
    const accounts = execFileSync(
      'tgtadm',
      ['-C', String(env.controlPort), '--lld', 'iscsi', '--mode', 'account', '--op', 'show'],
      {
        encoding: 'utf8',
      },
    );
    expect(accounts).not.toContain(chap.user);
  });

  it('ACL by address: the initiator on 127.0.0.1 gets in only when its address (or network) is listed', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0], initiators: ['10.255.0.1'] });
    await driver.addTarget({ name: iqn(clones[1]), image: clones[1], initiators: ['10.255.0.1', '127.0.0.0/8'] });
    expect(canLogIn(env.portal, iqn(clones[0]))).toBe(false);
    expect(canLogIn(env.portal, iqn(clones[1]))).toBe(true);
    expect((await ours()).map((t) => t.initiators)).toEqual([['10.255.0.1'], ['10.255.0.1', '127.0.0.0/8']]);
  });

  it('an empty ACL lets no one in', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0], initiators: [] });
    expect(await ours()).toEqual([{ name: iqn(clones[0]), image: clones[0], initiators: [] }]);
    expect(canLogIn(env.portal, iqn(clones[0]))).toBe(false);
  });

  it('concurrent adds and removes through one driver all succeed, on distinct tids', async () => {
    await Promise.all(clones.map((c) => driver.addTarget({ name: iqn(c), image: c })));
    const shown = parseTargetShow(tgtShow(env.controlPort)).filter((t) => t.name.includes(tag));
    expect(shown.map((t) => t.name).sort()).toEqual(clones.map(iqn).sort());
    expect(new Set(shown.map((t) => t.tid)).size).toBe(3);
    await Promise.all(clones.map((c) => driver.removeTarget(iqn(c))));
    expect(await ours()).toEqual([]);
  });

  it('two drivers on one tgtd (two instances): the tid one took is refused to the other, which takes another', async () => {
    const other = tgtDriverFor(env);
    await driver.listTargets();
    await other.listTargets();
    // both maps are now the same: each would pick the same lowest free tid
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    await other.addTarget({ name: iqn(clones[1]), image: clones[1] });
    const shown = parseTargetShow(tgtShow(env.controlPort)).filter((t) => t.name.includes(tag));
    expect(shown.map((t) => t.name).sort()).toEqual([iqn(clones[0]), iqn(clones[1])]);
    expect(new Set(shown.map((t) => t.tid)).size).toBe(2);
    // and each removes the other's: a name its map lacks is looked up in tgtd
    await other.removeTarget(iqn(clones[0]));
    await driver.removeTarget(iqn(clones[1]));
    expect(await ours()).toEqual([]);
  });

  it('a target deleted behind its back (a tgtd restart): remove is TargetNotFoundError, add makes it again', async () => {
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    const other = tgtDriverFor(env);
    await other.listTargets();
    await other.removeTarget(iqn(clones[0]));
    await expect(driver.removeTarget(iqn(clones[0]))).rejects.toThrow(TargetNotFoundError);
    await other.addTarget({ name: iqn(clones[2]), image: clones[2] }); // may take the freed tid
    await driver.addTarget({ name: iqn(clones[0]), image: clones[0] });
    const shown = parseTargetShow(tgtShow(env.controlPort)).filter((t) => t.name.includes(tag));
    expect(shown.map((t) => t.name).sort()).toEqual([iqn(clones[0]), iqn(clones[2])]);
    expect(new Set(shown.map((t) => t.tid)).size).toBe(2);
  });
});
