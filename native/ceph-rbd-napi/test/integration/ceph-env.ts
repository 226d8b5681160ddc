// Integration tests run against the cluster described by CEPH_CONF,
// CEPH_KEYRING, CEPH_ID and CEPH_POOL (what `eval "$(scripts/ceph-local.sh)"`
// exports). Without them: under CI the suite fails with one line; locally it
// is skipped with one loud line on stderr.
import { randomBytes } from 'node:crypto';

import { connect, type Cluster, type ConnectOptions, type IoCtx } from '../../src-ts';

export interface CephEnv {
  confFile: string;
  keyring: string;
  clientId: string;
  pool: string;
}

const VARS = ['CEPH_CONF', 'CEPH_KEYRING', 'CEPH_ID', 'CEPH_POOL'] as const;

/** Every client call in these tests is bounded by this (librados waits forever by default). */
export const TIMEOUT_SECONDS = 15;

export function describeCeph(title: string, body: (env: CephEnv) => void): void {
  const missing = VARS.filter((name) => !process.env[name]);
  if (missing.length === 0) {
    const env: CephEnv = {
      confFile: process.env.CEPH_CONF!,
      keyring: process.env.CEPH_KEYRING!,
      clientId: process.env.CEPH_ID!.replace(/^client\./, ''),
      pool: process.env.CEPH_POOL!,
    };
    describe(title, () => body(env));
    return;
  }
  const reason = `${missing.join(', ')} not set; run eval "$(scripts/ceph-local.sh)" first`;
  if (process.env.CI) {
    describe(title, () => {
      it('has a Ceph cluster to test against', () => {
        throw new Error(`ceph-rbd-napi integration tests cannot run under CI: ${reason}`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! SKIPPED ceph-rbd-napi integration suite "${title}": ${reason}\n`);
  describe.skip(title, () => body({ confFile: '', keyring: '', clientId: '', pool: '' }));
}

export function connectTo(env: CephEnv, extra: Partial<ConnectOptions> = {}): Promise<Cluster> {
  return connect({
    confFile: env.confFile,
    clientId: env.clientId,
    keyring: env.keyring,
    timeoutSeconds: TIMEOUT_SECONDS,
    ...extra,
  });
}

/** Image names unique to one test file run, so suites can share a pool. */
export function namer(suite: string): (name: string) => string {
  const run = `${suite}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return (name) => `napi-${run}-${name}`;
}

/**
 * Best-effort removal of every image whose name starts with `prefix`
 * (children before parents, snapshots unprotected and removed).
 * Returns what is left, which tests assert to be empty.
 */
export async function purge(io: IoCtx, prefix: string): Promise<string[]> {
  for (let round = 0; round < 6; round++) {
    const mine = (await io.listImages()).filter((name) => name.startsWith(prefix));
    if (mine.length === 0) return [];
    for (const name of mine) {
      try {
        await io.remove(name);
        continue;
      } catch {
        // has snapshots or children: clear its snapshots, retry next round
      }
      const snaps = await io.snapList(name).catch(() => []);
      for (const snap of snaps.filter((s) => s.namespace === 'user')) {
        await io.snapUnprotect(name, snap.name).catch(() => undefined);
        await io.snapRemove(name, snap.name).catch(() => undefined);
      }
    }
  }
  return (await io.listImages()).filter((name) => name.startsWith(prefix));
}
