import { AppConfig } from '../../config/app-config';
import { SagaActions } from '../../common/orchestration/actions';
import { FakeIscsiTargetDriver } from './drivers/fake-iscsi-target.driver';
import { TGT_NAME } from '../../common/validation/names';
import { TargetExistsError, TargetNotFoundError } from './iscsi.errors';
import { IscsiService } from './iscsi.service';
import { describeAcl, diffTargets } from './target-diff';

function service(iscsi: { targetPrefix?: string; initiatorAcl?: boolean } = {}) {
  const config = { iscsi: { targetPrefix: '', initiatorAcl: false, ...iscsi } } as AppConfig;
  const driver = new FakeIscsiTargetDriver();
  return { svc: new IscsiService(driver, config, new SagaActions()), driver };
}

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
