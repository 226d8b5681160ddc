import { IscsiTarget } from './iscsi-target.driver';

/** How the targets a daemon has differ from the ones BMI wants. */
export interface TargetDiff {
  /** wanted, and absent from the daemon */
  missing: IscsiTarget[];
  /** present under a wanted name, but exporting another image, or with another ACL or CHAP account */
  mismatched: { wanted: IscsiTarget; present: IscsiTarget; why: string }[];
  /** present, and not wanted: another tool's, or left over (reported, never deleted) */
  unknown: IscsiTarget[];
}

/** Compares by target name; ACLs compare as sets (absent = any initiator), CHAP accounts by user. */
export function diffTargets(wanted: readonly IscsiTarget[], present: readonly IscsiTarget[]): TargetDiff {
  const byName = new Map(present.map((t) => [t.name, t]));
  const wantedNames = new Set(wanted.map((t) => t.name));
  const diff: TargetDiff = { missing: [], mismatched: [], unknown: [] };
  for (const w of wanted) {
    const p = byName.get(w.name);
    if (!p) diff.missing.push(w);
    else if (p.image !== w.image) diff.mismatched.push({ wanted: w, present: p, why: `exports "${p.image}"` });
    else if (!sameAcl(w.initiators, p.initiators)) {
      diff.mismatched.push({ wanted: w, present: p, why: `lets in ${describeAcl(p.initiators)}` });
    } else if (w.chap?.user !== p.chap?.user) {
      diff.mismatched.push({ wanted: w, present: p, why: p.chap ? 'has another CHAP account' : 'has no CHAP account' });
    }
  }
  diff.unknown = present.filter((p) => !wantedNames.has(p.name));
  return diff;
}

function sameAcl(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

export function describeAcl(initiators: readonly string[] | undefined): string {
  if (initiators === undefined) return 'any initiator';
  return initiators.length ? initiators.join(', ') : 'no initiator';
}
