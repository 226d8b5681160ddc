import { ConflictError, InternalError, NotFoundError } from '../../common/errors/domain-error';

export class TargetExistsError extends ConflictError {
  override readonly code = 'TARGET_EXISTS';
  constructor(readonly target: string) {
    super('Target Already Exists');
  }
}
export class TargetNotFoundError extends NotFoundError {
  override readonly code = 'TARGET_NOT_FOUND';
  constructor(readonly target: string) {
    super('Target Doesnt Exist');
  }
}
/** tgtadm (or another target tool) failed; stdout/stderr are kept for the log, not for the client. */
export class IscsiCommandError extends InternalError {
  override readonly code = 'ISCSI_COMMAND_FAILED';
}
