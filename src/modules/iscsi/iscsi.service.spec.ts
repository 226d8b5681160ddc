import { AppConfig } from '../../config/app-config';
import { SagaActions } from '../../common/orchestration/actions';
import { FakeIscsiTargetDriver } from './drivers/fake-iscsi-target.driver';
import { TGT_NAME } from '../../common/validation/names';
import { TargetExistsError, TargetNotFoundError } from './iscsi.errors';
import type { Repository } from 'typeorm';
import { IscsiCredentialEntity } from './iscsi-credential.entity';
import { IscsiService } from './iscsi.service';
import { DbWriteLock } from '../../common/concurrency/locks';
import { describeAcl, diffTargets } from './target-diff';

/** The credentials table in memory: the few repository calls IscsiService makes. */
function memoryCredentials() {
  const rows = new Map<string, IscsiCredentialEntity>();
  return {
    rows,
    findOneBy: async ({ target }: { target: string }) => rows.get(target) ?? null,
    findOneByOrFail: async ({ target }: { target: string }) => rows.get(target)!,
    findBy: async ({ target }: { target: { value: string[] } }) =>
      target.value.map((t) => rows.get(t)).filter((r): r is IscsiCredentialEntity => r !== undefined),
    insert: async (row: IscsiCredentialEntity) => void rows.set(row.target, { ...row }),
  };
}

function service(iscsi: { targetPrefix?: string; initiatorAcl?: boolean; chap?: boolean } = {}) {
  const config = { iscsi: { targetPrefix: '', initiatorAcl: false, chap: false, ...iscsi } } as AppConfig;
  const driver = new FakeIscsiTargetDriver();
  const credentials = memoryCredentials();
  const repo = credentials as unknown as Repository<IscsiCredentialEntity>;
  return { svc: new IscsiService(driver, config, new SagaActions(), repo, new DbWriteLock()), driver, credentials };
}

describe('IscsiService with CHAP', () => {
  it('gives each target random credentials and an initiator name of its own, made once and kept', async () => {
    const { svc, driver, credentials } = service({ chap: true });
    await svc.exportStep('5img1').run();
    await svc.exportStep('5img2').run();
    const [a, b] = await svc.targetsFor(['5img1', '5img2']);
    expect(a.chap!.user).toMatch(/^bmi-[0-9a-f]{16}$/);
    expect(a.chap!.secret).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(a.initiators).toEqual([expect.stringMatching(/^iqn\.2026-11\.org\.bmi\.node:[0-9a-f]{24}$/)]);
    expect(b.chap!.secret).not.toBe(a.chap!.secret);
    expect(b.initiators).not.toEqual(a.initiators);
    // the same after a restart of the target (the nodes' scripts carry them)
    await svc.unexport('5img1');
    await svc.export('5img1');
    expect(await svc.targetFor('5img1')).toEqual(a);
    expect(credentials.rows.size).toBe(2);
    // the driver got them; a listing names the user only
    expect((await driver.listTargets()).find((t) => t.name === '5img1')).toEqual({
      name: '5img1',
      image: '5img1',
      initiators: a.initiators,
      chap: { user: a.chap!.user },
    });
    expect(await svc.accessFor('5img1')).toEqual({ initiator: a.initiators![0], chap: a.chap });
  });

  it('a target exported before CHAP was on keeps its open target (and scripts) until it is given credentials', async () => {
    const { svc, credentials } = service({ chap: true, initiatorAcl: true });
    expect(await svc.accessFor('5img9')).toEqual({ initiator: '5img9:initiator', chap: null });
    // made again (a tgtd restart, an undo): as it was, no credentials made behind the scripts' back
    await svc.export('5img9');
    expect(await svc.targetFor('5img9')).toEqual({ name: '5img9', image: '5img9', initiators: ['5img9:initiator'] });
    expect(credentials.rows.size).toBe(0);
    await svc.giveCredentials('5img9');
    await svc.giveCredentials('5img9');
    expect(credentials.rows.size).toBe(1);
    expect((await svc.targetFor('5img9')).chap).toBeDefined();
  });

  it('off: the open targets of the original, or the initiator ACL', async () => {
    expect(await service().svc.targetFor('5img1')).toEqual({ name: '5img1', image: '5img1' });
    expect(await service({ initiatorAcl: true }).svc.accessFor('5img1')).toEqual({
      initiator: '5img1:initiator',
      chap: null,
    });
  });
});

describe('IscsiService.targetName', () => {
  it('without a prefix: the bare Ceph name, as the original named targets (an existing site keeps booting)', () => {
    const { svc } = service();
    expect(svc.targetName('5img12')).toBe('5img12');
    expect(svc.targetName('Site_Aimg3')).toBe('Site_Aimg3');
  });

  it('with a prefix: a real IQN, <prefix><image>', () => {
    const { svc } = service({ targetPrefix: 'iqn.2026-11.org.bmi:' });
    expect(svc.targetName('5img12')).toBe('iqn.2026-11.org.bmi:5img12');
  });

  it('with a prefix: lower-cased, and anything outside [a-z0-9.:-] becomes "-", so tgtd accepts it', () => {
    const { svc } = service({ targetPrefix: 'iqn.2026-11.org.bmi:' });
    const name = svc.targetName('Site_Aimg3');
    expect(name).toBe('iqn.2026-11.org.bmi:site-aimg3');
    expect(name).toMatch(TGT_NAME);
    expect(name).toMatch(/^[a-z0-9.:-]+$/);
  });
});

describe('IscsiService export and ACL', () => {
  it('exports the image under its target name, open to any initiator by default', async () => {
    const { svc, driver } = service({ targetPrefix: 'iqn.2026-11.org.bmi:' });
    expect(svc.initiatorName('5img1')).toBeNull();
    expect(await svc.export('5img1')).toBe('iqn.2026-11.org.bmi:5img1');
    expect(await driver.listTargets()).toEqual([{ name: 'iqn.2026-11.org.bmi:5img1', image: '5img1' }]);
    expect(await svc.isExported('5img1')).toBe(true);
    await expect(svc.export('5img1')).rejects.toThrow(TargetExistsError);
  });

  it('with initiator_acl: the target lets in only <target>:initiator', async () => {
    const { svc, driver } = service({ targetPrefix: 'iqn.2026-11.org.bmi:', initiatorAcl: true });
    expect(svc.initiatorName('5img1')).toBe('iqn.2026-11.org.bmi:5img1:initiator');
    await svc.export('5img1');
    expect(await driver.listTargets()).toEqual([
      { name: 'iqn.2026-11.org.bmi:5img1', image: '5img1', initiators: ['iqn.2026-11.org.bmi:5img1:initiator'] },
    ]);
  });

  it('unexport removes by name; a second unexport is TargetNotFoundError', async () => {
    const { svc, driver } = service({ targetPrefix: 'iqn.x:' });
    await svc.export('5img1');
    await svc.unexport('5img1');
    await expect(svc.unexport('5img1')).rejects.toThrow(TargetNotFoundError);
    expect(await driver.listTargets()).toEqual([]);
  });
});

describe('diffTargets', () => {
  const t = (name: string, image = name, initiators?: string[]) =>
    initiators ? { name, image, initiators } : { name, image };

  it('missing, mismatched (image or ACL) and unknown targets, by name', () => {
    const diff = diffTargets(
      [t('a'), t('b'), t('c'), t('d', 'd', ['x', 'y'])],
      [t('b'), t('c', 'other'), t('d', 'd', ['y']), t('foreign')],
    );
    expect(diff.missing).toEqual([t('a')]);
    expect(diff.mismatched.map((m) => [m.wanted.name, m.why])).toEqual([
      ['c', 'exports "other"'],
      ['d', 'lets in y'],
    ]);
    expect(diff.unknown).toEqual([t('foreign')]);
  });

  it('ACLs compare as sets; absent (anyone) differs from empty (no one)', () => {
    expect(diffTargets([t('a', 'a', ['x', 'y'])], [t('a', 'a', ['y', 'x'])]).mismatched).toEqual([]);
    expect(diffTargets([t('a')], [t('a', 'a', [])]).mismatched).toHaveLength(1);
    expect(diffTargets([t('a', 'a', [])], [t('a')]).mismatched[0].why).toBe('lets in any initiator');
    expect(describeAcl([])).toBe('no initiator');
  });
});
