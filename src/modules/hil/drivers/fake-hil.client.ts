import { Credentials } from '../../../common/auth/caller';
import { HilClient, HilNode } from '../hil.client';
import { HilAuthenticationError, HilNodeNotFoundError, HilProjectNotFoundError } from '../hil.errors';
import { FakePowerDriver } from '../../power/drivers/fake-power.driver';
import type { PowerAction, PowerDriver, PowerState } from '../../power/power.driver';
import {
  canAccess,
  DEFAULT_HIL_SEED,
  HilDirectory,
  HilSeed,
  HilUser,
  loadSeedFile,
  NO_PROJECT_ACCESS,
  powerRefusal,
} from '../hil-directory';

/**
 * An in-memory HIL with HIL's access rules (../shared/docs/hil-contract.md): unknown user or wrong password is
 * refused, a project's node list needs membership or admin, an owned node is visible to its project's members
 * and admins only, a free node to anyone authenticated. Power goes to `power` (every node has its OBM on) under
 * HIL's power rule.
 */
export class FakeHilClient extends HilClient {
  private readonly directory: HilDirectory;

  constructor(
    seed: HilSeed = DEFAULT_HIL_SEED,
    private readonly powerDriver: PowerDriver = new FakePowerDriver(),
  ) {
    super();
    this.directory = HilDirectory.fromSeed(seed);
  }

  static fromFile(file: string, power?: PowerDriver): FakeHilClient {
    return new FakeHilClient(loadSeedFile(file), power);
  }

  async power(c: Credentials, node: string, action: PowerAction): Promise<void> {
    await this.powerDriver.act(this.mayPower(c, node), null, action);
  }

  async powerStatus(c: Credentials, node: string): Promise<PowerState> {
    return this.powerDriver.status(this.mayPower(c, node), null);
  }

  private mayPower(c: Credentials, node: string): string {
    const user = this.authenticate(c);
    const n = this.directory.nodes.get(node);
    if (!n) throw new HilNodeNotFoundError(node);
    const refusal = powerRefusal(user, n.project);
    if (refusal) throw new HilAuthenticationError(refusal);
    return node;
  }

  async getNode(c: Credentials, node: string): Promise<HilNode> {
    const user = this.authenticate(c);
    const n = this.directory.nodes.get(node);
    if (!n) throw new HilNodeNotFoundError(node);
    if (n.project !== null && !canAccess(user, n.project)) throw new HilAuthenticationError(NO_PROJECT_ACCESS);
    return { name: node, project: n.project, nics: n.nics.map((nic) => ({ ...nic })) };
  }

  async listProjectNodes(c: Credentials, project: string): Promise<string[]> {
    const user = this.authenticate(c);
    if (!this.directory.projects.has(project)) throw new HilProjectNotFoundError(project);
    if (!canAccess(user, project)) throw new HilAuthenticationError(NO_PROJECT_ACCESS);
    return [...this.directory.nodes.values()].filter((n) => n.project === project).map((n) => n.name);
  }

  async isAdmin(c: Credentials): Promise<boolean> {
    return this.authenticate(c).isAdmin;
  }

  private authenticate(c: Credentials): HilUser {
    const user = this.directory.authenticate(c.username, c.password);
    if (!user) throw new HilAuthenticationError();
    return user;
  }
}
