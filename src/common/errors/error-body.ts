import { HttpException, HttpStatus } from '@nestjs/common';
import { DomainError } from './domain-error';
import { codeOfStatus, ErrorCode } from './error-codes';

export interface ErrorReply {
  status: number;
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  /** true when the error was unexpected: the filter logs its stack and hides its text. */
  unexpected: boolean;
}

/** Turns anything thrown by a handler into what the client is told. Shared by both HTTP faces. */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof DomainError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      details: error.details,
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    let message = error.message;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      const m = (body as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    return { status, code: codeOfStatus(status), message, details: {}, unexpected: false };
  }
  const exposed = exposedHttpError(error);
  if (exposed) return { ...exposed, code: codeOfStatus(exposed.status), details: {}, unexpected: false };
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    code: 'INTERNAL',
    message: 'Internal server error',
    details: {},
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
