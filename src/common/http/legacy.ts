import {
  applyDecorators,
  CallHandler,
  CanActivate,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBasicAuth, ApiConsumes, ApiOkResponse, ApiResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { map, Observable } from 'rxjs';
import type { CallerRequest } from './credentials';
import { parseBasicAuth } from './basic-auth';

/**
 * The original BMI's HTTP conventions (reference §2.1), for the routes that keep its API:
 * - the Authorization header is checked before anything else (400 `No Authentication Details Given`);
 * - errors answer with their plain-text message (DomainErrorFilter reads `res.locals.legacyFace`).
 */
@Injectable()
export class LegacyAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const res = http.getResponse<Response>();
    res.locals.legacyFace = true;
    const req = http.getRequest<CallerRequest>();
    req.credentials = parseBasicAuth(req.headers.authorization);
    return true;
  }
}

/** Success bodies as the original sent them: `true` becomes the text `Success`, anything else its JSON. */
@Injectable()
export class LegacyResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<string> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((value: unknown) => {
        if (value === undefined || value === true) {
          res.type('text/plain; charset=utf-8');
          return 'Success';
        }
        res.type('application/json; charset=utf-8');
        return JSON.stringify(value);
      }),
    );
  }
}

/** Class decorator for a controller of the original's routes. */
export function LegacyApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(LegacyAuthGuard),
    UseInterceptors(LegacyResponseInterceptor),
    ApiBasicAuth(),
    ApiConsumes('application/x-www-form-urlencoded', 'application/json'),
    ...Object.entries(LEGACY_ERRORS).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, content: { 'text/plain': { schema: { type: 'string' } } } }),
    ),
  ) as ClassDecorator;
}

/**
 * What every route of the original's may answer besides its success, each as a plain-text message (the codes
 * of the /v1 face's ErrorCode are not sent on these routes).
 */
const LEGACY_ERRORS: Record<number, string> = {
  400: 'No Authorization header, or a missing or invalid field',
  401: 'HIL refused the credentials or the project',
  403: 'Not a BMI admin, or the node is not the project’s',
  404: 'No such project, image, node, NIC or target',
  405: 'The path exists with other methods (Allow header)',
  409: 'Exists already, busy, in use, has clones or snapshots',
  413: 'The body is over 64 KiB',
  429: 'Too many refused logins for this user or from this address (Retry-After says how long to wait)',
  500: 'BMI failed',
  502: 'A dependency (HIL, Ceph, tgt) answered something BMI cannot use',
  503: 'A dependency cannot be reached',
};

/** Documents the plain-text `Success` answer of an operation that returns nothing. */
export function ApiSuccessText(): MethodDecorator {
  return ApiOkResponse({
    description: 'the plain text `Success`',
    content: { 'text/plain': { schema: { type: 'string', example: 'Success' } } },
  });
}
