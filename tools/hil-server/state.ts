import { randomBytes } from 'node:crypto';
import { HilDirectory, HilSeed, HilUser } from '../../src/modules/hil/hil-directory';
import { Py, pyDumps } from './pyjson';

/**
 * The seed is config/hil-seed.json's format (HilSeed, shared with the fake HIL driver); the test server also
 * reads its optional parts:
 * - a node's `metadata` (any JSON values; HIL stores each one json.dumps'ed) and `obmd` settings (uri,
 *   admin_token, enabled, token; uri defaults to this server's own fake obmd, `<url>/node/<name>`);
 * - a NIC's `switch` and `port` (the switch and port are created, wired to the NIC);
 * - `switches`: name -> { type, ports } for switches with no NIC wired yet;
 * - `obmd`: the fake obmd (see server.ts): whether to `serve` its routes here (default true), the `tokens` it
 *   hands out when HIL enables a node's OBM (by node name, else random), each node's `power` (default "off").
 */
export type { HilSeed, SeedNode } from '../../src/modules/hil/hil-directory';
export { loadSeedFile } from '../../src/modules/hil/hil-directory';
export type User = HilUser;

export interface Nic {
  label: string;
  /** verbatim: HIL neither validates nor normalises MACs */
  macaddr: string;
  port: { switch: string; port: string } | null;
}

export interface Node {
  name: string;
  project: string | null;
  /** registration order */
  nics: Nic[];
  /** label -> json.dumps(value), as HIL's metadata table */
  metadata: Map<string, string>;
  /** null: this server's own fake obmd */
  obmdUri: string | null;
  obmdAdminToken: string;
  /** the node token obmd gave when OBM was enabled; null while disabled */
  obmToken: string | null;
}

export interface Switch {
  name: string;
  type: string;
  /** port label -> the NIC wired to it */
  ports: Map<string, { node: string; nic: string } | null>;
}

export const MOCK_SWITCH = 'http://schema.massopencloud.org/haas/v0/switches/mock';

/** HIL's database, in memory: the shared directory (users, projects, nodes) plus switches and obmd. */
export class HilState extends HilDirectory<Node> {
  readonly switches = new Map<string, Switch>();
  readonly obmd = { serve: true, tokens: new Map<string, string>(), power: new Map<string, 'on' | 'off'>() };

  static override fromSeed(seed: HilSeed): HilState {
    const s = new HilState();
    for (const [name, sw] of Object.entries(seed.switches ?? {})) {
      s.switches.set(name, {
        name,
        type: sw.type ?? MOCK_SWITCH,
        ports: new Map((sw.ports ?? []).map((p) => [p, null])),
      });
    }
    const problems = s.loadSeed(seed, (name, n, problems) => {
      const metadata = new Map(Object.entries(n.metadata ?? {}).map(([k, v]) => [k, pyDumps(v as Py)]));
      const node: Node = {
        name,
        project: n.project ?? null,
        nics: [],
        metadata,
        obmdUri: n.obmd?.uri ?? null,
        obmdAdminToken: n.obmd?.admin_token ?? '',
        obmToken: null,
      };
      for (const nic of n.nics ?? []) {
        let port: Nic['port'] = null;
        if (nic.switch !== undefined || nic.port !== undefined) {
          if (!nic.switch || !nic.port) problems.push(`node ${name} NIC ${nic.label}: give both switch and port`);
          else {
            port = { switch: nic.switch, port: nic.port };
            const sw = s.switches.get(nic.switch) ?? { name: nic.switch, type: MOCK_SWITCH, ports: new Map() };
            s.switches.set(nic.switch, sw);
            if (sw.ports.get(nic.port)) problems.push(`port ${nic.switch}/${nic.port} wired twice`);
            sw.ports.set(nic.port, { node: name, nic: nic.label });
          }
        }
        node.nics.push({ label: nic.label, macaddr: nic.macaddr, port });
      }
      return node;
    });
    s.obmd.serve = seed.obmd?.serve ?? true;
    for (const [n, t] of Object.entries(seed.obmd?.tokens ?? {})) s.obmd.tokens.set(n, t);
    for (const [n, p] of Object.entries(seed.obmd?.power ?? {})) s.obmd.power.set(n, p);
    for (const [name, n] of Object.entries(seed.nodes ?? {})) {
      if (n.obmd?.enabled) s.enableObm(s.nodes.get(name) as Node, n.obmd.token);
    }
    if (problems.length) throw new Error(`bad HIL seed: ${problems.join('; ')}`);
    return s;
  }

  /** What obmd does when HIL enables a node's OBM: hand out a node token (the seeded one, else random). */
  enableObm(node: Node, token?: string): void {
    node.obmToken = token ?? this.obmd.tokens.get(node.name) ?? randomBytes(16).toString('hex');
  }
}
