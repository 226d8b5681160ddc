import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** What this build of BMI is: its package version and, in a git checkout, the commit it was built from. */
export interface BuildInfo {
  version: string;
  commit: string | null;
  node: string;
}

/** The checkout's root: src/common and dist/common are both two levels below it. */
const ROOT = path.resolve(__dirname, '..', '..');

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  cached ??= { version: packageVersion(), commit: gitCommit(), node: process.version };
  return cached;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
  } catch {
    return '';
  }
}

/**
 * The commit HEAD names, read from .git directly (a production host need not have git): a detached HEAD holds
 * it, otherwise the branch's ref file or packed-refs does.
 */
function gitCommit(): string | null {
  try {
    const git = path.join(ROOT, '.git');
    const head = readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
    const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
    if (!ref) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const loose = path.join(git, ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(path.join(git, 'packed-refs'), 'utf8');
    return (
      packed
        .split('\n')
        .find((l) => l.endsWith(` ${ref}`))
        ?.split(' ')[0] ?? null
    );
  } catch {
    return null;
  }
}
