import {
  ConflictError,
  InternalError,
  NotFoundError,
  ServiceUnavailableError,
} from '../../../common/errors/domain-error';

/** Message texts are the original's (reference §2.3); statuses follow §8 (busy and exists are 409, not 500). */
export class RbdImageNotFoundError extends NotFoundError {
  override readonly code = 'RBD_IMAGE_NOT_FOUND';
  static of(name: string): RbdImageNotFoundError {
    return new RbdImageNotFoundError(`${name} Not Found`);
  }
}
export class RbdImageExistsError extends ConflictError {
  override readonly code = 'RBD_IMAGE_EXISTS';
  static of(name: string): RbdImageExistsError {
    return new RbdImageExistsError(`${name} Already Exists`);
  }
}
export class RbdImageBusyError extends ConflictError {
  override readonly code = 'RBD_IMAGE_BUSY';
  static of(name: string): RbdImageBusyError {
    return new RbdImageBusyError(`${name} is Busy (Could have Clones)`);
  }
}
export class RbdSnapshotBusyError extends ConflictError {
  override readonly code = 'RBD_SNAPSHOT_PROTECTED';
  static of(name: string): RbdSnapshotBusyError {
    return new RbdSnapshotBusyError(`Snapshot ${name} is protected from removal`);
  }
}
export class RbdImageHasSnapshotsError extends ConflictError {
  override readonly code = 'RBD_IMAGE_HAS_SNAPSHOTS';
  static of(name: string): RbdImageHasSnapshotsError {
    return new RbdImageHasSnapshotsError(`${name} has Snapshots`);
  }
}
/** The storage refused an argument (unprotect an unprotected snapshot, clone from an unprotected one…). */
export class RbdInvalidOperationError extends ConflictError {
  override readonly code = 'RBD_INVALID_OPERATION';
}
export class StorageUnavailableError extends ServiceUnavailableError {
  override readonly code = 'STORAGE_UNAVAILABLE';
}
export class StorageFailedError extends InternalError {
  override readonly code = 'STORAGE_FAILED';
}
