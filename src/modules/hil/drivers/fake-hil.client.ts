import { readFileSync } from 'node:fs';
import { HilClient, HilNode } from '../hil.client';
import { Credentials } from '../../../common/auth/caller';
import { HilAuthenticationError, HilNodeNotFoundError, HilProjectNotFoundError } from '../hil.errors';

/** The seed of the fake (and of the HIL-compatible test server): users, projects, nodes with NICs. */
export interface HilSeed {
  users: Record<string, { password: string; is_admin?: boolean; projects?: string[] }>;
  projects: string[];
  nodes: Record<string, { project?: string | null; nics: { label: string; macaddr: string }[] }>;
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

/**
 * An in-memory HIL with HIL's access rules (../shared/docs/hil-contract.md): unknown user or wrong password is
 * refused, a project's node list needs membership or admin, an owned node is visible to its project's members
 * and admins only, a free node to anyone authenticated.
 */
export class FakeHilClient extends HilClient {
  constructor(private readonly seed: HilSeed = DEFAULT_HIL_SEED) {
    super();
  }

  static fromFile(file: string): FakeHilClient {
    return new FakeHilClient(JSON.parse(readFileSync(file, 'utf8')) as HilSeed);
  }

  async getNode(c: Credentials, node: string): Promise<HilNode> {
    const user = this.authenticate(c);
    const n = this.seed.nodes[node];
    if (!n) throw new HilNodeNotFoundError(node);
    const project = n.project ?? null;
    if (project !== null && !user.is_admin && !(user.projects ?? []).includes(project)) {
      throw new HilAuthenticationError('You do not have access to the required project.');
    }
    return { name: node, project, nics: n.nics.map((nic) => ({ ...nic })) };
  }

  async listProjectNodes(c: Credentials, project: string): Promise<string[]> {
    const user = this.authenticate(c);
    if (!this.seed.projects.includes(project)) throw new HilProjectNotFoundError(project);
    if (!user.is_admin && !(user.projects ?? []).includes(project)) {
      throw new HilAuthenticationError('You do not have access to the required project.');
    }
    return Object.entries(this.seed.nodes)
      .filter(([, n]) => n.project === project)
      .map(([name]) => name);
  }

  async isAdmin(c: Credentials): Promise<boolean> {
    return this.authenticate(c).is_admin === true;
  }

  private authenticate(c: Credentials): HilSeed['users'][string] {
    const user = Object.prototype.hasOwnProperty.call(this.seed.users, c.username) ? this.seed.users[c.username] : null;
    if (!user || user.password !== c.password) throw new HilAuthenticationError();
    return user;
  }
}
