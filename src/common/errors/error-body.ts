import { HttpException, HttpStatus } from '@nestjs/common';
import { DomainError } from './domain-error';

export interface ErrorReply {
  status: number;
  code: string;
  message: string;
  /** true when the error was unexpected: the filter logs its stack and hides its text. */
  unexpected: boolean;
}

/** Turns anything thrown by a handler into what the client is told. Shared by both HTTP faces. */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof DomainError) {
    return { status: error.status, code: error.code, message: error.message, unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    let message = error.message;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      const m = (body as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    return { status, code: httpCode(status), message, unexpected: false };
  }
  const exposed = exposedHttpError(error);
  if (exposed) return { ...exposed, code: httpCode(exposed.status), unexpected: false };
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    code: 'INTERNAL',
    message: 'Internal server error',
    unexpected: true,
  };
}

/**
 * Errors of Express middleware (the body parsers: body too large, malformed JSON) carry their status and
 * say whether their message may be shown to the client (`expose`).
 */
function exposedHttpError(error: unknown): { status: number; message: string } | null {
  if (error === null || typeof error !== 'object') return null;
  const e = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status > 499 || e.expose !== true) return null;
  return { status: e.status, message: typeof e.message === 'string' ? e.message : 'Bad request' };
}

function httpCode(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    default:
      return status >= 500 ? 'INTERNAL' : 'HTTP_ERROR';
  }
}
