import type { Bmc } from '../power/power.driver';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isUniqueViolation } from '../../database/unique-violation';
import { exclusive, lockKey, OperationLocks, shared, DbWriteLock } from '../../common/concurrency/locks';
import { isSafeName, NAME_RULE } from '../../common/validation/names';
import { AppConfig } from '../../config/app-config';
import { ProjectsService } from '../projects/projects.service';
import type { ProjectScope } from '../access/access-level';
import { HilNodeNotFoundError, NicNotFoundError } from '../hil/hil.errors';
import { costOf, hashPassword } from './password-hash';
import { StandaloneMembershipEntity } from './standalone-membership.entity';
import { StandaloneNicEntity } from './standalone-nic.entity';
import { StandaloneNodeEntity } from './standalone-node.entity';
import { StandaloneUserEntity } from './standalone-user.entity';
import {
  LastAdminError,
  MacInUseError,
  MembershipExistsError,
  MembershipNotFoundError,
  NicExistsError,
  NodeExistsError,
  NodeOwnershipConflictError,
  StandaloneBootstrapError,
  UserExistsError,
  UserNotFoundError,
} from './standalone.errors';

/** A user as listed: never its password nor its hash. */
export interface UserRow {
  name: string;
  isAdmin: boolean;
  /** the projects it is a member of, sorted */
  projects: string[];
}

export interface NodeRow {
  name: string;
  /** the owning project, null when free */
  project: string | null;
  /** in registration order, MACs lower-cased */
  nics: { label: string; macaddr: string }[];
}

/**
 * Users, memberships, nodes and NICs of standalone mode (`[driver] net_isolator = standalone`), kept in BMI's
 * database where HIL would keep them. The routes (StandaloneController) declare who may call them: a BMI admin,
 * or a user changing their own password, only in standalone mode; each change is logged with who made it.
 * At the first start in standalone mode, when there is no user at all, `[net_isolator] admin_user` is created
 * as an admin with `[net_isolator] admin_password`.
 */
/** The lock of the user table's rule that one admin at least remains. */
const USERS_LOCK = 'standalone:users';

@Injectable()
export class StandaloneAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger(StandaloneAdminService.name);

  constructor(
    @InjectRepository(StandaloneUserEntity) private readonly users: Repository<StandaloneUserEntity>,
    @InjectRepository(StandaloneMembershipEntity) private readonly members: Repository<StandaloneMembershipEntity>,
    @InjectRepository(StandaloneNodeEntity) private readonly nodes: Repository<StandaloneNodeEntity>,
    @InjectRepository(StandaloneNicEntity) private readonly nics: Repository<StandaloneNicEntity>,
    private readonly projects: ProjectsService,
    private readonly config: AppConfig,
    private readonly locks: OperationLocks,
    private readonly dbLock: DbWriteLock,
  ) {}

  /** The first admin user, at the first start in standalone mode. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.drivers.netIsolator !== 'standalone') return;
    const { adminUser, adminPassword } = this.config.netIsolator;
    if ((await this.users.count()) > 0) {
      if (adminPassword) {
        this.logger.log('[net_isolator] admin_password is only used at the first start (when there is no user)');
      }
      return;
    }
    if (!adminPassword) {
      throw new StandaloneBootstrapError(
        `standalone mode: BMI has no user yet, and [net_isolator] admin_password is empty. Set it (or ` +
          `BMI_NET_ISOLATOR_ADMIN_PASSWORD) for this start: BMI then creates the admin user "${adminUser}" with ` +
          'that password',
      );
    }
    if (!isSafeName(adminUser)) {
      throw new StandaloneBootstrapError(
        `[net_isolator] admin_user "${adminUser}" is not a valid user name: ${NAME_RULE}`,
      );
    }
    const passwordHash = await hashPassword(adminPassword, costOf(this.config.auth.scryptCost));
    try {
      await this.dbLock.run(() => this.users.insert({ name: adminUser, passwordHash, isAdmin: true }));
    } catch (e) {
      if (isUniqueViolation(e)) return; // another instance starting at the same moment made it
      throw e;
    }
    this.logger.log(`standalone mode: created the first admin user ${adminUser}`);
  }

  // ---- users

  async listUsers(): Promise<UserRow[]> {
    const rows = await this.users.find({ relations: { memberships: { project: true } }, order: { name: 'ASC' } });
    return rows.map((u) => this.userRow(u));
  }

  async createUser(scope: ProjectScope, name: string, password: string, isAdmin: boolean): Promise<UserRow> {
    const passwordHash = await hashPassword(password, costOf(this.config.auth.scryptCost));
    await this.dbLock.run(async () => {
      if (await this.users.existsBy({ name })) throw new UserExistsError(name);
      try {
        await this.users.insert({ name, passwordHash, isAdmin });
      } catch (e) {
        // made by another instance between the check and the insert
        throw isUniqueViolation(e) ? new UserExistsError(name) : e;
      }
    });
    this.logger.log(`created ${isAdmin ? 'admin ' : ''}user ${name} (by ${actor(scope)})`);
    return { name, isAdmin, projects: [] };
  }

  async deleteUser(scope: ProjectScope, name: string): Promise<void> {
    // one delete at a time across instances: two at once must not both find another admin left
    await this.locks.run([exclusive(USERS_LOCK)], () =>
      this.dbLock.run(async () => {
        const user = await this.requireUser(name);
        if (user.isAdmin && (await this.users.countBy({ isAdmin: true })) <= 1) throw new LastAdminError(name);
        await this.users.delete({ id: user.id });
      }),
    );
    this.logger.log(`deleted user ${name} (by ${actor(scope)})`);
  }

  /** An admin may set anyone's password; any user their own (they authenticate with the current one). */
  async changePassword(scope: ProjectScope, name: string, newPassword: string): Promise<void> {
    const passwordHash = await hashPassword(newPassword, costOf(this.config.auth.scryptCost));
    await this.dbLock.run(async () => {
      const user = await this.requireUser(name);
      await this.users.update({ id: user.id }, { passwordHash });
    });
    this.logger.log(`changed the password of user ${name} (by ${actor(scope)})`);
  }

  async addUserToProject(scope: ProjectScope, name: string, project: string): Promise<void> {
    await this.locks.run([shared(lockKey.project(project))], async () => {
      const target = await this.projects.require(project);
      await this.dbLock.run(async () => {
        const user = await this.requireUser(name);
        if (await this.members.existsBy({ userId: user.id, projectId: target.id })) {
          throw new MembershipExistsError(name, project);
        }
        await this.members.insert({ userId: user.id, projectId: target.id });
      });
    });
    this.logger.log(`added user ${name} to project ${project} (by ${actor(scope)})`);
  }

  async removeUserFromProject(scope: ProjectScope, name: string, project: string): Promise<void> {
    await this.locks.run([shared(lockKey.project(project))], async () => {
      const target = await this.projects.require(project);
      await this.dbLock.run(async () => {
        const user = await this.requireUser(name);
        const result = await this.members.delete({ userId: user.id, projectId: target.id });
        if (!result.affected) throw new MembershipNotFoundError(name, project);
      });
    });
    this.logger.log(`removed user ${name} from project ${project} (by ${actor(scope)})`);
  }

  // ---- nodes and NICs

  async listNodes(): Promise<NodeRow[]> {
    const rows = await this.nodes.find({
      relations: { project: true, nics: true },
      order: { name: 'ASC', nics: { id: 'ASC' } },
    });
    return rows.map((n) => this.nodeRow(n));
  }

  async registerNode(scope: ProjectScope, node: string): Promise<NodeRow> {
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        if (await this.nodes.existsBy({ name: node })) throw new NodeExistsError(node);
        await this.nodes.insert({ name: node, projectId: null });
      }),
    );
    this.logger.log(`registered node ${node} (by ${actor(scope)})`);
    return { name: node, project: null, nics: [] };
  }

  /** A node must be free to be deleted (as in HIL); its NICs go with it. */
  async deleteNode(scope: ProjectScope, node: string): Promise<void> {
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        if (n.project) {
          throw new NodeOwnershipConflictError(
            `Node ${node} is connected to project ${n.project.name}; detach it first`,
          );
        }
        await this.nodes.delete({ id: n.id });
      }),
    );
    this.logger.log(`deleted node ${node} (by ${actor(scope)})`);
  }

  async addNic(scope: ProjectScope, node: string, label: string, macaddr: string): Promise<void> {
    const mac = macaddr.toLowerCase();
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        if (await this.nics.existsBy({ nodeId: n.id, label })) throw new NicExistsError(node, label);
        const taken = await this.nics.findOne({ where: { macaddr: mac }, relations: { node: true } });
        if (taken) throw new MacInUseError(mac, taken.node?.name ?? '?', taken.label);
        try {
          await this.nics.insert({ nodeId: n.id, label, macaddr: mac });
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          // the MAC given to another node by another instance meanwhile (the label is under this node's lock)
          const now = await this.nics.findOne({ where: { macaddr: mac }, relations: { node: true } });
          throw new MacInUseError(mac, now?.node?.name ?? '?', now?.label ?? '?');
        }
      }),
    );
    this.logger.log(`added nic ${label} (${mac}) to node ${node} (by ${actor(scope)})`);
  }

  async removeNic(scope: ProjectScope, node: string, label: string): Promise<void> {
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        const result = await this.nics.delete({ nodeId: n.id, label });
        if (!result.affected) throw new NicNotFoundError(node, label);
      }),
    );
    this.logger.log(`removed nic ${label} from node ${node} (by ${actor(scope)})`);
  }

  /** Gives a free node to a project; a node that belongs to a project already is refused (409). */
  async connectNode(scope: ProjectScope, node: string, project: string): Promise<void> {
    await this.locks.run([shared(lockKey.project(project)), exclusive(lockKey.node(node))], async () => {
      const target = await this.projects.require(project);
      await this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        if (n.project) {
          throw new NodeOwnershipConflictError(
            n.project.id === target.id
              ? `Node ${node} is already connected to project ${project}`
              : `Node ${node} is connected to project ${n.project.name}; detach it first`,
          );
        }
        await this.nodes.update({ id: n.id }, { projectId: target.id });
      });
    });
    this.logger.log(`connected node ${node} to project ${project} (by ${actor(scope)})`);
  }

  /** Frees a node; a free node is refused (409). */
  /** Records the node's BMC (or forgets it, with null): where power requests for it go (`[driver] power`). */
  async setBmc(scope: ProjectScope, node: string, bmc: Bmc | null): Promise<void> {
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        await this.nodes.update(
          { id: n.id },
          { bmcAddress: bmc?.address ?? null, bmcUsername: bmc?.username ?? null, bmcPassword: bmc?.password ?? null },
        );
      }),
    );
    this.logger.log(
      `${bmc ? `recorded BMC ${bmc.address} of` : 'forgot the BMC of'} node ${node} (by ${actor(scope)})`,
    );
  }

  async detachNode(scope: ProjectScope, node: string): Promise<void> {
    let from = '';
    await this.locks.run([exclusive(lockKey.node(node))], () =>
      this.dbLock.run(async () => {
        const n = await this.requireNode(node);
        if (!n.project) throw new NodeOwnershipConflictError(`Node ${node} is not connected to any project`);
        from = n.project.name;
        await this.nodes.update({ id: n.id }, { projectId: null });
      }),
    );
    this.logger.log(`detached node ${node} from project ${from} (by ${actor(scope)})`);
  }

  // ---- helpers

  private async requireUser(name: string): Promise<StandaloneUserEntity> {
    const user = await this.users.findOneBy({ name });
    if (!user) throw new UserNotFoundError(name);
    return user;
  }

  private async requireNode(name: string): Promise<StandaloneNodeEntity> {
    const node = await this.nodes.findOne({ where: { name }, relations: { project: true } });
    if (!node) throw new HilNodeNotFoundError(name);
    return node;
  }

  private userRow(u: StandaloneUserEntity): UserRow {
    const projects = (u.memberships ?? []).map((m) => m.project?.name ?? '').filter(Boolean);
    return { name: u.name, isAdmin: u.isAdmin, projects: projects.sort() };
  }

  private nodeRow(n: StandaloneNodeEntity): NodeRow {
    return {
      name: n.name,
      project: n.project?.name ?? null,
      nics: (n.nics ?? []).map((nic) => ({ label: nic.label, macaddr: nic.macaddr })),
    };
  }
}

/** Who made a change, for the log. */
function actor(scope: ProjectScope): string {
  return scope.caller.credentials.username;
}
