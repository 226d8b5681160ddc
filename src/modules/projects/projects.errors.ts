import { ConflictError, NotFoundError } from '../../common/errors/domain-error';

export class ProjectNotFoundError extends NotFoundError {
  override readonly code = 'PROJECT_NOT_FOUND';
  constructor(name: string) {
    super(`${name} not found`);
  }
}
export class ProjectExistsError extends ConflictError {
  override readonly code = 'PROJECT_EXISTS';
  constructor(name: string) {
    super(`Project ${name} already exists`);
  }
}
export class ProjectNotEmptyError extends ConflictError {
  override readonly code = 'PROJECT_NOT_EMPTY';
}
