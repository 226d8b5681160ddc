import {
  BadGatewayError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../common/errors/domain-error';

/** Wrong password, unknown user, or no access to the project (HIL says 401, or 404 for an unknown user). */
export class HilAuthenticationError extends UnauthorizedError {
  override readonly code = 'HIL_AUTHENTICATION_FAILED';
  constructor(message = 'Authentication Failed') {
    super(message);
  }
}
export class AdminRequiredError extends ForbiddenError {
  override readonly code = 'ADMIN_REQUIRED';
  constructor() {
    super('User Does Not Have Admin Role');
  }
}
export class NodeNotOwnedError extends ForbiddenError {
  override readonly code = 'NODE_NOT_OWNED';
}
export class HilNodeNotFoundError extends NotFoundError {
  override readonly code = 'NODE_NOT_FOUND';
  constructor(node: string) {
    super(`node ${node} not found`);
  }
}
export class HilProjectNotFoundError extends NotFoundError {
  override readonly code = 'HIL_PROJECT_NOT_FOUND';
  constructor(project: string) {
    super(`project ${project} not found in HIL`);
  }
}
export class NicNotFoundError extends NotFoundError {
  override readonly code = 'NIC_NOT_FOUND';
  constructor(node: string, nic: string) {
    super(`Nic ${nic} does not exist on node ${node}`);
  }
}
export class HilUnavailableError extends ServiceUnavailableError {
  override readonly code = 'HIL_UNAVAILABLE';
}
export class HilBadResponseError extends BadGatewayError {
  override readonly code = 'HIL_BAD_RESPONSE';
}
/** HIL refused the request because of the node's state (409 BlockedError: OBM off, node owned…). */
export class HilBlockedError extends ConflictError {
  override readonly code = 'HIL_BLOCKED';
}
