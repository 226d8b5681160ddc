/**
 * A parser of `tgtadm --lld iscsi --mode target --op show` (tgt 1.0.x), which prints every target as an indented
 * tree (4 spaces per level; samples in test/fixtures/tgt/):
 *
 *   Target 1: iqn.2026-11.org.bmi:5img3
 *       System information:            Driver, State
 *       I_T nexus information:         I_T nexus: N / Initiator: NAME alias: A / Connection: C / IP Address: IP
 *       LUN information:               LUN: N, then its Type, Backing store type, Backing store path, …
 *       Account information:           CHAP user names
 *       ACL information:               ALL, addresses and CIDRs, then initiator names
 *
 * A line that fits nowhere is an error rather than something silently skipped: BMI decides what to delete
 * from this output.
 */

export interface TgtShowTarget {
  tid: number;
  name: string;
  driver: string;
  state: string;
  luns: TgtShowLun[];
  /** the ACL as tgtd prints it: `ALL`, addresses / CIDRs, initiator names */
  acl: string[];
  accounts: string[];
  /** initiators logged in right now */
  sessions: { nexus: number; initiator: string; addresses: string[] }[];
}

export interface TgtShowLun {
  lun: number;
  /** disk, controller, … */
  type: string;
  /** rbd, rdwr, null, … */
  backingStoreType: string;
  /** `pool/image` for rbd; null when tgtd prints None */
  backingStorePath: string | null;
}

export class TgtShowParseError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly line: string,
    why: string,
  ) {
    super(`cannot parse tgtadm --op show output at line ${lineNumber} (${why}): ${JSON.stringify(line)}`);
    this.name = 'TgtShowParseError';
  }
}

type Section = 'system' | 'nexus' | 'lun' | 'account' | 'acl';
const SECTIONS: Record<string, Section> = {
  'System information': 'system',
  'I_T nexus information': 'nexus',
  'LUN information': 'lun',
  'Account information': 'account',
  'ACL information': 'acl',
};

export function parseTargetShow(text: string): TgtShowTarget[] {
  const targets: TgtShowTarget[] = [];
  let target: TgtShowTarget | null = null;
  let section: Section | null = null;
  let lun: TgtShowLun | null = null;
  let session: TgtShowTarget['sessions'][number] | null = null;

  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const fail = (why: string): never => {
      throw new TgtShowParseError(index + 1, line, why);
    };
    const depth = indentOf(line);
    const body = line.trim();

    if (depth === 0) {
      const m = /^Target (\d+): (.+)$/.exec(line);
      if (!m) fail('expected "Target N: NAME"');
      target = {
        tid: Number(m![1]),
        name: m![2],
        driver: '',
        state: '',
        luns: [],
        acl: [],
        accounts: [],
        sessions: [],
      };
      targets.push(target);
      section = null;
      lun = null;
      session = null;
      return;
    }
    if (!target) return fail('text before the first target');
    const t: TgtShowTarget = target;
    if (depth === 1) {
      const m = /^(.+):$/.exec(body);
      section = (m && SECTIONS[m[1]]) || fail('unknown section');
      lun = null;
      session = null;
      return;
    }
    switch (section) {
      case 'system': {
        const kv = keyValue(body) ?? fail('expected "Key: value"');
        if (depth !== 2) fail('unexpected depth');
        if (kv[0] === 'Driver') t.driver = kv[1];
        else if (kv[0] === 'State') t.state = kv[1];
        return;
      }
      case 'lun': {
        if (depth === 2) {
          const m = /^LUN: (\d+)$/.exec(body) ?? fail('expected "LUN: N"');
          lun = { lun: Number(m[1]), type: '', backingStoreType: '', backingStorePath: null };
          t.luns.push(lun);
          return;
        }
        if (!lun || depth !== 3) return fail('LUN detail outside a LUN');
        const kv = keyValue(body);
        if (!kv) return; // e.g. "Backing store flags:" with an empty value is matched below; others are free text
        const l: TgtShowLun = lun;
        if (kv[0] === 'Type') l.type = kv[1];
        else if (kv[0] === 'Backing store type') l.backingStoreType = kv[1];
        else if (kv[0] === 'Backing store path') l.backingStorePath = kv[1] === 'None' || kv[1] === '' ? null : kv[1];
        return;
      }
      case 'nexus': {
        if (depth === 2) {
          const m = /^I_T nexus: (\d+)$/.exec(body) ?? fail('expected "I_T nexus: N"');
          session = { nexus: Number(m[1]), initiator: '', addresses: [] };
          t.sessions.push(session);
          return;
        }
        if (!session) return fail('nexus detail outside a nexus');
        const s: TgtShowTarget['sessions'][number] = session;
        const initiator = /^Initiator: (\S+)(?: alias: .*)?$/.exec(body);
        if (initiator) s.initiator = initiator[1];
        const address = /^IP Address: (\S+)$/.exec(body);
        if (address) s.addresses.push(address[1]);
        return;
      }
      case 'account':
        if (depth !== 2) fail('unexpected depth');
        t.accounts.push(body);
        return;
      case 'acl':
        if (depth !== 2) fail('unexpected depth');
        t.acl.push(body);
        return;
      default:
        fail('detail outside a section');
    }
  });
  return targets;
}

/** Indentation level: tgtadm indents with 4 spaces per level. */
function indentOf(line: string): number {
  const spaces = /^ */.exec(line)![0].length;
  return Math.floor(spaces / 4);
}

function keyValue(body: string): [string, string] | null {
  const m = /^([^:]+):(?: (.*))?$/.exec(body);
  return m ? [m[1], (m[2] ?? '').trim()] : null;
}
