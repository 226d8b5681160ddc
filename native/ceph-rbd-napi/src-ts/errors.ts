import { constants } from 'node:os';

/** What the native layer (or a fake binding) attaches to a rejected call. */
interface NativeErrorFields {
  message?: unknown;
  code?: unknown;
  errno?: unknown;
  op?: unknown;
  target?: unknown;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/**
 * The one error class of this package: every failed librbd/librados call and
 * every refused call (closed handle, pending work) rejects with an RbdError.
 * Argument mistakes reject with a TypeError instead.
 *
 * `code` is the errno name ('ENOENT', 'EEXIST', 'EBUSY', 'ENOTEMPTY', …),
 * `errno` the positive errno value, `op` the librbd/librados function that
 * failed ('rbd_clone3', 'rbd_open', …) or, for a refused call, the method
 * name ('close', 'clone', …), and `target` what it acted on
 * ('bmi/golden@base', a pool name, a conf file), when known.
 */
export class RbdError extends Error {
  override readonly name = 'RbdError';
  readonly code: string;
  readonly errno: number;
  readonly op: string;
  readonly target?: string;

  constructor(
    message: string,
    fields: { code?: string; errno: number; op: string; target?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.errno = Math.abs(fields.errno);
    this.code = fields.code ?? errnoNames.get(this.errno) ?? 'EUNKNOWN';
    this.op = fields.op;
    if (fields.target !== undefined) this.target = fields.target;
    Error.captureStackTrace?.(this, RbdError);
  }

  /**
   * Converts what a binding call rejected with into an RbdError. Errors that
   * carry no errno (TypeErrors from the native argument backstop, bugs) are
   * returned unchanged.
   */
  static from(error: unknown, fallbackOp: string): unknown {
    if (error instanceof RbdError) return error;
    if (typeof error !== 'object' || error === null) return error;
    const fields = error as NativeErrorFields;
    if (typeof fields.errno !== 'number' || !Number.isFinite(fields.errno)) return error;
    const op = typeof fields.op === 'string' && fields.op !== '' ? fields.op : fallbackOp;
    const errno = Math.abs(fields.errno);
    const code = typeof fields.code === 'string' && fields.code !== '' ? fields.code : errnoNames.get(errno);
    const target = typeof fields.target === 'string' ? fields.target : undefined;
    const message =
      typeof fields.message === 'string' && fields.message !== ''
        ? fields.message
        : `${op} failed: errno ${errno} (${code ?? 'EUNKNOWN'})${target ? ` [${target}]` : ''}`;
    return new RbdError(message, { code, errno, op, target }, { cause: error });
  }
}
