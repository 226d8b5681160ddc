import {
  createParamDecorator,
  ExecutionContext,
  Injectable,
  PipeTransform,
  Type,
  ValidationPipe,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { Caller } from '../../common/auth/caller';
import { callerCredentials } from '../../common/http/legacy';
import { validationPipe } from '../../common/http/validation';
import { AppConfig } from '../../config/app-config';
import { AccessLevel, ProjectScope } from './access-level';
import { ProjectAccess } from './project-access.service';

/** The level a route needs, fixed or read from its (validated) body, e.g. "admin when the project changes". */
export type AccessRule = AccessLevel | ((body: Record<string, unknown>, caller: Caller) => AccessLevel);

/** A condition on the deployment checked before access, e.g. "only in standalone mode" (throws a DomainError). */
export type Precondition = (config: AppConfig) => void;

interface AccessRequest {
  request: Request;
  body: Type | undefined;
  rule: AccessRule;
  preconditions: Precondition[];
}

/**
 * Resolves a route's access declaration into the ProjectScope its handler receives, in the order the original
 * API answers: the body is validated first (400), then the preconditions (e.g. 409), then the project (404)
 * and the caller's access to it (401/403). Nest resolves a handler's parameters concurrently, so this pipe
 * validates the body itself instead of relying on the `@Body()` parameter having been validated first; both
 * use the same options, so an invalid body gives the same 400 whichever answers first.
 */
@Injectable()
export class AccessPipe implements PipeTransform<AccessRequest, Promise<ProjectScope>> {
  private readonly validation: ValidationPipe = validationPipe();

  constructor(
    private readonly access: ProjectAccess,
    private readonly config: AppConfig,
  ) {}

  async transform(req: AccessRequest): Promise<ProjectScope> {
    const body = (
      req.body
        ? await this.validation.transform(req.request.body, { type: 'body', metatype: req.body })
        : (req.request.body ?? {})
    ) as Record<string, unknown>;
    for (const precondition of req.preconditions) precondition(this.config);
    const caller: Caller = { credentials: callerCredentials(req.request), project: String(body.project) };
    const level = typeof req.rule === 'function' ? req.rule(body, caller) : req.rule;
    return this.access.resolve(caller, level);
  }
}

/** The class of the handler's `@Body()` parameter, if it has one. */
function bodyType(ctx: ExecutionContext): Type | undefined {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, ctx.getClass(), ctx.getHandler().name) ?? {}) as Record<
    string,
    { index: number }
  >;
  const entry = Object.entries(args).find(([key]) => key.split(':')[0] === String(RouteParamtypes.BODY));
  if (!entry) return undefined;
  const types = Reflect.getMetadata('design:paramtypes', ctx.getClass().prototype, ctx.getHandler().name) as Type[];
  return types[entry[1].index];
}

const accessRequest = createParamDecorator(
  (declared: Pick<AccessRequest, 'rule' | 'preconditions'>, ctx: ExecutionContext): AccessRequest => ({
    ...declared,
    request: ctx.switchToHttp().getRequest<Request>(),
    body: bodyType(ctx),
  }),
);

/**
 * Declares the access a route needs and hands its handler the resolved ProjectScope:
 * `create(@Access('member') scope: ProjectScope, @Body() dto: CreateDiskDto)`.
 * The module of the controller must import AccessModule.
 */
export function Access(rule: AccessRule, ...preconditions: Precondition[]): ParameterDecorator {
  return accessRequest({ rule, preconditions }, AccessPipe);
}
