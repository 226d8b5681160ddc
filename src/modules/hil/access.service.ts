import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Caller } from './caller';
import { HilClient, HilNode } from './hil.client';
import { AdminRequiredError, HilAuthenticationError, HilProjectNotFoundError, NodeNotOwnedError } from './hil.errors';

/**
 * BMI's authorisation rules, the same for every face (REST, CLI):
 * - a project-scoped operation needs access to the project in HIL (member or HIL admin);
 * - a node may be provisioned or deprovisioned only when HIL says it belongs to the caller's project;
 * - admin operations need a HIL admin or a member of the admin project ([bmi] admin_project).
 */
@Injectable()
export class AccessService {
  constructor(
    private readonly hil: HilClient,
    private readonly config: AppConfig,
  ) {}

  async assertProjectAccess(caller: Caller): Promise<void> {
    try {
      await this.hil.listProjectNodes(caller.credentials, caller.project);
    } catch (e) {
      // A BMI project HIL does not know (the admin project, typically) is open to HIL admins only. A 401
      // is final: HIL admins can list every project's nodes.
      if (e instanceof HilProjectNotFoundError && (await this.hil.isAdmin(caller.credentials))) return;
      throw e;
    }
  }

  async assertAdmin(caller: Caller): Promise<void> {
    if (await this.hil.isAdmin(caller.credentials)) return;
    try {
      await this.hil.listProjectNodes(caller.credentials, this.config.bmi.adminProject);
      return;
    } catch (e) {
      if (e instanceof HilAuthenticationError || e instanceof HilProjectNotFoundError) {
        // isAdmin succeeded above, so the credentials are good: the caller is simply not an admin.
        throw new AdminRequiredError();
      }
      throw e;
    }
  }

  /** The node, when it belongs to the caller's project; refused when it is free or someone else's. */
  async ownedNode(caller: Caller, node: string): Promise<HilNode> {
    const n = await this.hil.getNode(caller.credentials, node);
    if (n.project !== caller.project) {
      throw new NodeNotOwnedError(
        n.project === null
          ? `Node ${node} is free: it must belong to project ${caller.project}`
          : `Node ${node} does not belong to project ${caller.project}`,
      );
    }
    return n;
  }

  getNode(caller: Caller, node: string): Promise<HilNode> {
    return this.hil.getNode(caller.credentials, node);
  }
}
