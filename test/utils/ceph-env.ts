/** The cluster the integration tests use, as printed by `scripts/ceph-local.sh up` (npm test exports it). */
export interface CephEnv {
  confFile: string;
  keyring: string;
  clientId: string;
  pool: string;
}

export function cephEnv(): CephEnv | null {
  const { CEPH_CONF, CEPH_KEYRING, CEPH_ID, CEPH_POOL } = process.env;
  if (!CEPH_CONF || !CEPH_KEYRING || !CEPH_ID || !CEPH_POOL) return null;
  return { confFile: CEPH_CONF, keyring: CEPH_KEYRING, clientId: CEPH_ID, pool: CEPH_POOL };
}

/** The app's settings for the Ceph driver on this cluster (and tgt as its iSCSI driver), with a uid of its own. */
export function cephAppEnv(ceph: CephEnv, uid: string): NodeJS.ProcessEnv {
  return {
    BMI_DRIVER_FS: 'ceph',
    BMI_DRIVER_ISCSI: 'tgt',
    BMI_FS_CONF_FILE: ceph.confFile,
    BMI_FS_ID: ceph.clientId,
    BMI_FS_KEYRING: ceph.keyring,
    BMI_FS_POOL: ceph.pool,
    BMI_FS_TIMEOUT_SECONDS: '20',
    BMI_BMI_UID: uid,
  };
}

const HOW = 'set CEPH_CONF, CEPH_KEYRING, CEPH_ID and CEPH_POOL from `scripts/ceph-local.sh up` (npm test does)';

/**
 * A describe block that needs a real Ceph cluster. Without one it fails in CI (CI is set), and elsewhere it
 * is skipped with one loud line, never silently.
 */
export function describeWithCeph(title: string, body: (env: CephEnv) => void): void {
  const env = cephEnv();
  if (env) {
    describe(title, () => body(env));
  } else if (process.env.CI) {
    describe(title, () => {
      it('has a Ceph cluster to run against', () => {
        throw new Error(`no Ceph cluster: ${HOW}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${title}": no Ceph cluster; ${HOW}`);
    describe.skip(title, () => it('needs a Ceph cluster', () => undefined));
  }
}
