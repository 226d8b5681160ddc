import { ConflictError, InternalError, NotFoundError, ServiceUnavailableError } from '../../common/errors/domain-error';

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

/** What a failed target command leaves for the log: never part of a client's message. */
export interface IscsiCommandDetails {
  argv?: readonly string[];
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

/** tgtadm (or another target tool) failed; stdout/stderr are kept for the log, not for the client. */
export class IscsiCommandError extends InternalError {
  override readonly code = 'ISCSI_COMMAND_FAILED';
  constructor(
    message: string,
    readonly command: IscsiCommandDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The target daemon cannot be reached (tgtd not running on the control port, tgtadm not installed). */
export class IscsiUnavailableError extends ServiceUnavailableError {
  override readonly code = 'ISCSI_UNAVAILABLE';
  constructor(
    message: string,
    readonly command: IscsiCommandDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
