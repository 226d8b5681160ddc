import { readFileSync } from 'node:fs';
import type { HilNic } from './hil.client';

/**
 * Users, projects and nodes as HIL holds them, in memory: the data behind the fake HIL driver
 * (`[driver] net_isolator = fake`) and behind the HIL-compatible test server (tools/hil-server, which adds
 * switches, metadata and OBM to it). The standalone driver keeps the same data in BMI's database instead, and
 * all three apply the same rules: `canAccess` and NO_PROJECT_ACCESS.
 */

/**
 * The seed of the fake HIL and of the test server (config/hil-seed.json): users, projects, nodes with NICs.
 * The optional parts are the test server's alone (see tools/hil-server/state.ts): a node's `metadata` and
 * `obmd`, a NIC's `switch` and `port`, and the seed's `switches` and `obmd`.
 */
export interface HilSeed {
  users: Record<string, { password: string; is_admin?: boolean; projects?: string[] }>;
  projects: string[];
  nodes: Record<string, SeedNode>;
  switches?: Record<string, { type?: string; ports?: string[] }>;
  obmd?: { serve?: boolean; tokens?: Record<string, string>; power?: Record<string, 'on' | 'off'> };
}

export interface SeedNode {
  project?: string | null;
  nics: { label: string; macaddr: string; switch?: string; port?: string }[];
  /** any JSON values */
  metadata?: Record<string, unknown>;
  obmd?: { uri?: string; admin_token?: string; enabled?: boolean; token?: string };
}

export interface HilUser {
  name: string;
  password: string;
  isAdmin: boolean;
  /** membership order, as HIL's user_projects rows */
  projects: string[];
}

export interface DirectoryNode {
  name: string;
  /** null: free */
  project: string | null;
  /** registration order */
  nics: HilNic[];
}

/** HIL's refusal of a project (or of a node of a project) the user is not in. */
export const NO_PROJECT_ACCESS = 'You do not have access to the required project.';

/**
 * Who may switch a node's power, as HIL decides it (require_project_access of the node's project): its project's
 * members and admins; a free node, admins only. The refusal's message, or null when allowed.
 */
export function powerRefusal(user: { isAdmin: boolean; projects: readonly string[] }, project: string | null) {
  return canAccess(user, project) ? null : NO_PROJECT_ACCESS;
}

/** HIL's one access rule: admins reach every project, other users the projects they are members of. */
export function canAccess(user: { isAdmin: boolean; projects: readonly string[] }, project: string | null): boolean {
  return user.isAdmin || (project !== null && user.projects.includes(project));
}

/** A fixed seed for the laptop mode when no seed file is configured. */
export const DEFAULT_HIL_SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
    bob: { password: 'bobpass', projects: ['proj2'] },
  },
  projects: ['bmi_infra', 'proj1', 'proj2'],
  nodes: {
    'node-01': { project: 'proj1', nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:56' }] },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
  },
};

export function loadSeedFile(file: string): HilSeed {
  return JSON.parse(readFileSync(file, 'utf8')) as HilSeed;
}

/** The directory; maps keep insertion order, which stands for HIL's row order. */
export class HilDirectory<N extends DirectoryNode = DirectoryNode> {
  readonly users = new Map<string, HilUser>();
  readonly projects = new Set<string>();
  readonly nodes = new Map<string, N>();

  /** The seed's users, projects and nodes; every problem of the seed at once. */
  static fromSeed(seed: HilSeed): HilDirectory {
    const d = new HilDirectory();
    const problems = d.loadSeed(seed, (name, n) => ({
      name,
      project: n.project ?? null,
      nics: (n.nics ?? []).map((nic) => ({ label: nic.label, macaddr: nic.macaddr })),
    }));
    if (problems.length) throw new Error(`bad HIL seed: ${problems.join('; ')}`);
    return d;
  }

  /** The user whose password this is; null for an unknown user or a wrong password. */
  authenticate(username: string, password: string): HilUser | null {
    const user = this.users.get(username);
    return user && user.password === password ? user : null;
  }

  /** Loads users, projects and nodes (built by `node`); returns the problems found. */
  protected loadSeed(seed: HilSeed, node: (name: string, n: SeedNode, problems: string[]) => N): string[] {
    const problems: string[] = [];
    for (const p of seed.projects ?? []) this.projects.add(p);
    const needProject = (p: string, who: string) => {
      if (!this.projects.has(p)) problems.push(`${who}: project ${p} is not in "projects"`);
    };
    for (const [name, u] of Object.entries(seed.users ?? {})) {
      if (typeof u?.password !== 'string') problems.push(`user ${name}: password missing`);
      for (const p of u?.projects ?? []) needProject(p, `user ${name}`);
      this.users.set(name, {
        name,
        password: String(u?.password),
        isAdmin: u?.is_admin === true,
        projects: [...new Set(u?.projects ?? [])],
      });
    }
    for (const [name, n] of Object.entries(seed.nodes ?? {})) {
      if (n.project) needProject(n.project, `node ${name}`);
      const built = node(name, n, problems);
      built.nics.forEach((nic, i) => {
        if (built.nics.findIndex((x) => x.label === nic.label) !== i)
          problems.push(`node ${name}: NIC ${nic.label} twice`);
      });
      this.nodes.set(name, built);
    }
    return problems;
  }
}
