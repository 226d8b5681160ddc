import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiExtraModels,
  ApiParam,
  ApiProperty,
  ApiResponse,
  ApiTags,
  getSchemaPath,
  ApiSchema,
} from '@nestjs/swagger';
import { NAME_PATTERN } from '../validation/names';
import { UnauthorizedError } from '../errors/domain-error';
import { ERROR_CODE_NAMES, ERROR_CODES, ErrorCode } from '../errors/error-codes';
import { parseBasicAuth } from './basic-auth';
import type { CallerRequest } from './credentials';
import { ETagInterceptor } from './resources';

/**
 * The resource-style face of BMI, beside the original's routes and over the same services: JSON in and out,
 * the project in the path, errors as `{ code, message, details }`, 401 with a Basic challenge.
 */
export const V1 = 'v1';

export function isV1Path(path: string): boolean {
  return path === `/${V1}` || path.startsWith(`/${V1}/`);
}

/** Every error of a /v1 route. */
@ApiSchema({ name: 'ErrorBody' })
export class ErrorBodyDto {
  @ApiProperty({ enum: ERROR_CODE_NAMES, enumName: 'ErrorCode', description: 'what went wrong; stable, to branch on' })
  code: ErrorCode;

  @ApiProperty({ description: 'for people; may change between versions', example: 'disk1 not found' })
  message: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'facts to act on: `fields` (field → problem) for BAD_REQUEST, `allow` for METHOD_NOT_ALLOWED…',
    example: {},
  })
  details: Record<string, unknown>;
}

/** Credentials are required: no header is a 401 with a challenge (the original answered 400). */
@Injectable()
export class V1AuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<CallerRequest>();
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') {
      throw new UnauthorizedError('Authentication required: HTTP Basic with your HIL (or BMI standalone) credentials');
    }
    req.credentials = parseBasicAuth(header);
    return true;
  }
}

/** Class decorator of a /v1 controller: its tag, Basic auth on every route, the error body in the document. */
export function V1Api(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    UseGuards(V1AuthGuard),
    UseInterceptors(ETagInterceptor),
    ApiBasicAuth(),
    ApiExtraModels(ErrorBodyDto),
  ) as ClassDecorator;
}

/** Documents the `{project}` of a route's path (checked by the access declaration, AccessInPath). */
export function ApiProjectParam(): ClassDecorator & MethodDecorator {
  return ApiParam({
    name: 'project',
    description: 'the project the operation acts in; the caller needs access to it in HIL',
    schema: { type: 'string', pattern: NAME_PATTERN.source, maxLength: 64, example: 'proj1' },
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'No credentials, or refused',
  403: 'Not allowed to this caller',
  404: 'Not found',
  409: 'Conflicts with the current state',
  412: 'If-Match names another version',
  413: 'The body is too large (64 KiB at most)',
  415: 'A body of a type or charset BMI does not read',
  422: 'Idempotency-Key reused for another request',
  429: 'Too many refused logins; wait as Retry-After says',
  500: 'BMI failed',
  502: 'A dependency answered something BMI cannot use',
  503: 'A dependency cannot be reached',
};

/**
 * What can fail on any authenticated route: the input (its body too large or of a type BMI does not read, on
 * any method), the credentials (429 when too many were refused), the project, BMI and HIL.
 */
const ALWAYS = [400, 401, 404, 413, 415, 429, 500, 502, 503];

/**
 * Documents the error answers of a route: the statuses every authenticated route can give, and `extra`. Each
 * lists the codes of that status (ERROR_CODES), and has the error body as its schema.
 */
export function ApiErrors(...extra: number[]): MethodDecorator {
  const statuses = [...new Set([...ALWAYS, ...extra])].sort();
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: `${STATUS_TEXT[status] ?? 'Error'}: ${codesOf(status).join(', ')}`,
        content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBodyDto) } } },
        ...(RESPONSE_HEADERS[status] ? { headers: RESPONSE_HEADERS[status] } : {}),
      }),
    ),
  );
}

const RESPONSE_HEADERS: Record<number, Record<string, { description: string; schema: { type: 'string' } }>> = {
  401: { 'WWW-Authenticate': { description: 'how to authenticate', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'string' } } },
};

function codesOf(status: number): string[] {
  return ERROR_CODE_NAMES.filter((c) => ERROR_CODES[c][0] === status && c !== 'HTTP_ERROR');
}
