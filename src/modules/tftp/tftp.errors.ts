import {
  BadRequestError,
  ForbiddenError,
  InternalError,
  NotFoundError,
  TooManyRequestsError,
} from '../../common/errors/domain-error';

/** Writing or removing a boot file failed (reference §2.3 RegistrationFailedException). */
export class BootFileError extends InternalError {
  override readonly code = 'BOOT_FILE_FAILED';
}
/** A boot file name that would leave its directory or is otherwise unsafe. */
export class UnsafeBootFileNameError extends BadRequestError {
  override readonly code = 'UNSAFE_BOOT_FILE_NAME';
}
/** GET /boot/ipxe while [tftp] http_boot is off: as if the route did not exist. */
export class HttpBootDisabledError extends NotFoundError {
  override readonly code = 'HTTP_BOOT_OFF';
}
/** GET /boot/ipxe from an address outside [tftp] http_boot_allow. */
export class BootClientNotAllowedError extends ForbiddenError {
  override readonly code = 'BOOT_CLIENT_NOT_ALLOWED';
}
/** No node is provisioned with this MAC (or no per-MAC scripts are written). */
export class NotProvisionedError extends NotFoundError {
  override readonly code = 'NOT_PROVISIONED';
}
/** A MAC that is not six hex pairs. */
export class InvalidMacError extends BadRequestError {
  override readonly code = 'INVALID_MAC';
}
/** GET /boot/ipxe asked more often than [tftp] http_boot_rate from one address. */
export class BootScriptRateLimitedError extends TooManyRequestsError {
  override readonly code = 'TOO_MANY_REQUESTS';
}
