import { ConflictError, NotFoundError } from '../../common/errors/domain-error';

/** The user and node administration routes exist in standalone mode only. */
export class StandaloneModeOffError extends ConflictError {
  override readonly code = 'STANDALONE_MODE_OFF';
  constructor(mode: string) {
    super(
      `standalone mode is off ([driver] net_isolator = ${mode}): users, projects' members, nodes and NICs are ` +
        'managed in the network isolator',
    );
  }
}
export class UserNotFoundError extends NotFoundError {
  override readonly code = 'USER_NOT_FOUND';
  constructor(name: string) {
    super(`user ${name} not found`);
  }
}
export class UserExistsError extends ConflictError {
  override readonly code = 'USER_EXISTS';
  constructor(name: string) {
    super(`User ${name} already exists`);
  }
}
export class LastAdminError extends ConflictError {
  override readonly code = 'LAST_ADMIN';
  constructor(name: string) {
    super(`User ${name} is the last admin user and cannot be deleted`);
  }
}
export class MembershipExistsError extends ConflictError {
  override readonly code = 'MEMBERSHIP_EXISTS';
  constructor(user: string, project: string) {
    super(`User ${user} is already a member of project ${project}`);
  }
}
export class MembershipNotFoundError extends NotFoundError {
  override readonly code = 'MEMBERSHIP_NOT_FOUND';
  constructor(user: string, project: string) {
    super(`User ${user} is not a member of project ${project}`);
  }
}
export class NodeExistsError extends ConflictError {
  override readonly code = 'NODE_EXISTS';
  constructor(node: string) {
    super(`Node ${node} already exists`);
  }
}
/** Connect, delete or detach refused because of the node's current owner (or lack of one). */
export class NodeOwnershipConflictError extends ConflictError {
  override readonly code = 'NODE_OWNERSHIP_CONFLICT';
}
export class NicExistsError extends ConflictError {
  override readonly code = 'NIC_EXISTS';
  constructor(node: string, label: string) {
    super(`Nic ${label} already exists on node ${node}`);
  }
}
export class MacInUseError extends ConflictError {
  override readonly code = 'MAC_IN_USE';
  constructor(mac: string, node: string, label: string) {
    super(`MAC ${mac} is already registered, as nic ${label} of node ${node}`);
  }
}
/** The first start of standalone mode cannot create its admin user. */
export class StandaloneBootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StandaloneBootstrapError';
  }
}
