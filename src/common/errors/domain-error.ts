import type { ErrorCode } from './error-codes';

/**
 * Every error a service may throw. It carries the HTTP status it maps to and a stable SCREAMING_SNAKE code, so
 * that one filter can answer for the whole app and clients can branch on the code instead of on the message.
 * The message is what the original BMI returned as the plain-text body; keep it user-facing and free of secrets.
 * Families below set the status; leaves in each module's `*.errors.ts` set the code.
 */
export class DomainError extends Error {
  readonly status: number = 500;
  readonly code: ErrorCode = 'INTERNAL';
  /** facts a client can act on (the field that was wrong, the resource that exists); never a secret */
  readonly details: Record<string, unknown>;

  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options);
    this.name = new.target.name;
    this.details = options?.details ?? {};
  }
}

/** 400: the request itself is wrong (a bad name, a missing field, an operation that makes no sense). */
export class BadRequestError extends DomainError {
  override readonly status: number = 400;
  override readonly code: ErrorCode = 'BAD_REQUEST';
}
/** 401: the caller could not be authenticated, or has no access to the project. */
export class UnauthorizedError extends DomainError {
  override readonly status: number = 401;
  override readonly code: ErrorCode = 'UNAUTHORIZED';
}
/** 403: authenticated, but the operation is not allowed to this caller. */
export class ForbiddenError extends DomainError {
  override readonly status: number = 403;
  override readonly code: ErrorCode = 'FORBIDDEN';
}
/** 404: a named thing does not exist. */
export class NotFoundError extends DomainError {
  override readonly status: number = 404;
  override readonly code: ErrorCode = 'NOT_FOUND';
}
/** 409: the request clashes with the current state (exists already, busy, has clones…). */
export class ConflictError extends DomainError {
  override readonly status: number = 409;
  override readonly code: ErrorCode = 'CONFLICT';
}
/** 500: BMI itself failed. */
/**
 * 429: the caller is refused for a while (too many failed logins, too many requests); the answer's Retry-After
 * says for how long.
 */
export class TooManyRequestsError extends DomainError {
  override readonly status: number = 429;
  override readonly code: ErrorCode = 'TOO_MANY_REQUESTS';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { details: { retryAfterSeconds } });
  }
}
export class InternalError extends DomainError {}
/** 502: a dependency (HIL, Ceph, tgt) answered something BMI cannot use. */
export class BadGatewayError extends DomainError {
  override readonly status: number = 502;
  override readonly code: ErrorCode = 'BAD_GATEWAY';
}
/** 503: a dependency cannot be reached right now. */
export class ServiceUnavailableError extends DomainError {
  override readonly status: number = 503;
  override readonly code: ErrorCode = 'SERVICE_UNAVAILABLE';
}

/** The failures of compensations that ran after an operation failed; attached to the original error. */
export interface CompensationFailure {
  step: string;
  error: unknown;
}
