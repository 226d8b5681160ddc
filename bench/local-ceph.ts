import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../scripts/ceph-local.sh');

/** A throw-away cluster from scripts/ceph-local.sh: its directory and the CEPH_* variables it printed. */
export interface LocalCeph {
  dir: string;
  env: Record<string, string>;
  purge: () => void;
}

/** A memstore cluster without mgr on the given monitor ports (benchmarks use their own, apart from the tests'). */
export function startLocalCeph(name: string, monPort: number, monPortV1: number): LocalCeph {
  const dir = mkdtempSync(path.join(tmpdir(), `bmi-bench-${name}-`));
  const out = execFileSync('bash', [SCRIPT, 'up', dir], {
    env: {
      ...process.env,
      CEPH_OBJECTSTORE: 'memstore',
      CEPH_WITH_MGR: '0',
      CEPH_MON_PORT: String(monPort),
      CEPH_MON_PORT_V1: String(monPortV1),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();
  const env = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  return { dir, env, purge: () => execFileSync('bash', [SCRIPT, 'purge', dir], { stdio: 'inherit' }) };
}
