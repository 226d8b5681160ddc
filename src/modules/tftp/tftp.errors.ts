import { BadRequestError, InternalError } from '../../common/errors/domain-error';

/** Writing or removing a boot file failed (reference §2.3 RegistrationFailedException). */
export class BootFileError extends InternalError {
  override readonly code = 'BOOT_FILE_FAILED';
}
/** A boot file name that would leave its directory or is otherwise unsafe. */
export class UnsafeBootFileNameError extends BadRequestError {
  override readonly code = 'UNSAFE_BOOT_FILE_NAME';
}
