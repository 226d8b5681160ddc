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
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiConsumes,
  ApiOkResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
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
    ApiBadRequestResponse({ description: 'No Authorization header, or a missing or invalid field (plain text)' }),
    ApiUnauthorizedResponse({ description: 'HIL refused the credentials or the project (plain text)' }),
  ) as ClassDecorator;
}

/** Documents the plain-text `Success` answer of an operation that returns nothing. */
export function ApiSuccessText(): MethodDecorator {
  return ApiOkResponse({
    description: 'the plain text `Success`',
    content: { 'text/plain': { schema: { type: 'string', example: 'Success' } } },
  });
}
