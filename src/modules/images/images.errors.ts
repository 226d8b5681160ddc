import { BadRequestError, ConflictError, DomainError, NotFoundError } from '../../common/errors/domain-error';

export class ImageNotFoundError extends NotFoundError {
  override readonly code = 'IMAGE_NOT_FOUND';
  constructor(name: string) {
    super(`${name} not found`);
  }
}
export class ImageExistsError extends ConflictError {
  override readonly code = 'IMAGE_EXISTS';
  constructor(name: string, project: string) {
    super(`${name} already exists in project ${project}`);
  }
}
/** create_disk with a name that is taken: the original's 409 text, naming the existing disk's target. */
export class DiskExistsError extends ConflictError {
  override readonly code = 'DISK_EXISTS';
  constructor(cephName: string) {
    super(`Disk exists. Endpoint:${cephName}`);
  }
}
export class ImageHasClonesError extends ConflictError {
  override readonly code = 'IMAGE_HAS_CLONES';
  constructor(name: string) {
    super(`${name} has clones, please deprovision before deleting`);
  }
}
export class ImageInUseError extends ConflictError {
  override readonly code = 'IMAGE_IN_USE';
}
export class WrongImageKindError extends BadRequestError {
  override readonly code = 'WRONG_IMAGE_KIND';
}

/** The project would hold more images or bytes than `[upload] images_per_project` / `bytes_per_project`. */
export class QuotaExceededError extends ConflictError {
  override readonly code = 'QUOTA_EXCEEDED';
}

/** An upload's data came from another offset than the one it has received up to. */
export class UploadOffsetError extends ConflictError {
  override readonly code = 'UPLOAD_OFFSET_MISMATCH';
  constructor(image: string, received: number) {
    super(`The upload of ${image} has received ${received} bytes: send from offset ${received}`, {
      details: { received },
    });
  }
}

/** No upload of this image is receiving data here (none, ended, another request sending, another instance). */
export class UploadNotReceivingError extends ConflictError {
  override readonly code = 'UPLOAD_NOT_RECEIVING';
}

/** The uploaded file is not what it claims (checksum, format, a qcow2 with a backing file, too large). */
export class BadImageFileError extends BadRequestError {
  override readonly code = 'BAD_IMAGE_FILE';
}

/** More bytes than the upload announced, or than `[upload] max_bytes`. */
export class UploadTooLargeError extends DomainError {
  override readonly status = 413;
  override readonly code = 'PAYLOAD_TOO_LARGE';
}
