import { execFileSync } from 'node:child_process';
import { SpawnCommandRunner } from '../../src/common/process/spawn-command-runner';
import { TgtIscsiTargetDriver } from '../../src/modules/iscsi/drivers/tgt-iscsi-target.driver';
import { CephEnv, cephEnv } from './ceph-env';

/** The tgtd the integration tests use, as printed by `scripts/tgt-local.sh up` (npm test exports it), and Ceph. */
export interface TgtEnv {
  controlPort: number;
  /** IP:PORT of its iSCSI portal */
  portal: string;
  ceph: CephEnv;
}

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** BMI's tgt driver on this tgtd, exporting from its Ceph pool as LUN 1 (a fresh one knows no targets yet). */
export function tgtDriverFor(env: TgtEnv): TgtIscsiTargetDriver {
  return new TgtIscsiTargetDriver(new SpawnCommandRunner(), {
    controlPort: env.controlPort,
    pool: env.ceph.pool,
    cephConf: env.ceph.confFile,
    cephId: env.ceph.clientId,
    lun: 1,
  });
}

export function tgtEnv(): TgtEnv | null {
  const { TGT_CONTROL_PORT, TGT_PORTAL } = process.env;
  const ceph = cephEnv();
  if (!TGT_CONTROL_PORT || !TGT_PORTAL || !ceph) return null;
  if (!hasProgram('tgtadm') || !hasProgram('iscsi-inq')) return null;
  return { controlPort: Number(TGT_CONTROL_PORT), portal: TGT_PORTAL, ceph };
}

const HOW =
  'set TGT_CONTROL_PORT and TGT_PORTAL from `scripts/tgt-local.sh up` and CEPH_* from `scripts/ceph-local.sh up`, ' +
  'and install libiscsi-bin (npm test does all of it)';

/**
 * A describe block that needs a real tgtd exporting from a real Ceph cluster, and iscsi-inq to log in as an
 * initiator. Without them it fails in CI (CI is set), and elsewhere it is skipped with one loud line.
 */
export function describeWithTgt(title: string, body: (env: TgtEnv) => void): void {
  const env = tgtEnv();
  if (env) {
    describe(title, () => body(env));
  } else if (process.env.CI) {
    describe(title, () => {
      it('has a tgtd and a Ceph cluster to run against', () => {
        throw new Error(`no tgtd: ${HOW}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${title}": no tgtd; ${HOW}`);
    describe.skip(title, () => it('needs a tgtd', () => undefined));
  }
}

/** `tgtadm --op show` run directly (not through BMI's driver or parser): what tgtd really has. */
export function tgtShow(controlPort: number): string {
  return execFileSync('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'show'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** Whether `tgtadm --op show` lists a target of this name (its `Target N: NAME` line). */
export function tgtHas(controlPort: number, name: string): boolean {
  return tgtShow(controlPort)
    .split('\n')
    .some((l) => /^Target \d+: /.test(l) && l.slice(l.indexOf(': ') + 2) === name);
}

/**
 * Logs in to the target as an iSCSI initiator (iscsi-inq, LUN 1), with CHAP when given, and runs an INQUIRY:
 * true when the target let the initiator in and answered as a disk.
 */
export function canLogIn(
  portal: string,
  target: string,
  initiator = 'iqn.2026-11.org.bmi.test:probe',
  chap?: { user: string; secret: string },
): boolean {
  const auth = chap ? `${encodeURIComponent(chap.user)}%${encodeURIComponent(chap.secret)}@` : '';
  try {
    const out = execFileSync('iscsi-inq', ['-i', initiator, `iscsi://${auth}${portal}/${target}/1`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15000,
    });
    return /Peripheral Device Type:DIRECT_ACCESS/.test(out);
  } catch {
    return false;
  }
}

/** The size in bytes of LUN 1 as an initiator reads it (READ CAPACITY 16), or null when it cannot log in. */
export function lunSize(portal: string, target: string, initiator = 'iqn.2026-11.org.bmi.test:probe'): number | null {
  try {
    const out = execFileSync('iscsi-readcapacity16', ['-i', initiator, `iscsi://${portal}/${target}/1`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15000,
    });
    const m = /^Total size:(\d+)$/m.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
