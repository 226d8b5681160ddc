import { BadRequestError, ConflictError, NotFoundError } from '../../common/errors/domain-error';

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
