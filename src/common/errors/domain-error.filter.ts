import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { noteErrorCode } from '../observability/request-context';
import { TooManyRequestsError } from './domain-error';
import type { Request, Response } from 'express';
import { toErrorReply } from './error-body';

/** The challenge of a 401: HTTP Basic, credentials in UTF-8 (RFC 7617). */
export const BASIC_CHALLENGE = 'Basic realm="BMI", charset="UTF-8"';

/**
 * The challenge of a 401 to a page's script (`X-Requested-With: XMLHttpRequest`, as Swagger UI sends): the
 * same, under a scheme name browsers do not answer with a login prompt of their own, which would hold the
 * request and hide the 401 from the page (what Spring Security and others avoid by the same header).
 */
export const BROWSER_CHALLENGE = 'XBasic realm="BMI", charset="UTF-8"';

/**
 * The one place where a failed request is answered and logged. Two faces share it:
 * - the original BMI routes (marked by `res.locals.legacyFace`) answer with the plain-text message, as the
 *   original did;
 * - the /v1 routes answer JSON `{ code, message, details }` (ErrorBodyDto), and a 401 says how to authenticate
 *   (`WWW-Authenticate`).
 * Unexpected errors are logged with their stack and reach the client as a bare "Internal server error".
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const reply = toErrorReply(error);
    const where = `${req.method} ${req.path}`;
    // the request's access line carries the code; the message is logged where it helps an operator
    noteErrorCode(req, reply.code);
    if (reply.unexpected) {
      this.logger.error(`${where} failed: ${error instanceof Error ? error.stack : String(error)}`);
    } else if (reply.status >= 500) {
      this.logger.warn(`${where} -> ${reply.status} ${reply.code}: ${reply.message}`);
    } else {
      this.logger.debug(`${where} -> ${reply.status} ${reply.code}: ${reply.message}`);
    }
    if (res.headersSent) return;
    if (error instanceof TooManyRequestsError) res.set('Retry-After', String(error.retryAfterSeconds));
    if (res.locals?.legacyFace) {
      res.status(reply.status).type('text/plain; charset=utf-8').send(reply.message);
    } else {
      if (reply.status === 401) {
        const fromScript = req.headers['x-requested-with'] === 'XMLHttpRequest';
        res.set('WWW-Authenticate', fromScript ? BROWSER_CHALLENGE : BASIC_CHALLENGE);
      }
      res.status(reply.status).json({ code: reply.code, message: reply.message, details: reply.details });
    }
  }
}
