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
import { callerCredentials } from '../../common/http/credentials';
import { validationPipe } from '../../common/http/validation';
import { IdempotencyStore } from '../../common/http/idempotency';
import { noteCaller } from '../../common/observability/request-context';
import { AppConfig } from '../../config/app-config';
import { isSafeName } from '../../common/validation/names';
import { ProjectNotFoundError } from '../projects/projects.errors';
import { AccessLevel, ProjectScope } from './access-level';
import { ProjectAccess } from './project-access.service';

/** The level a route needs, fixed or read from its (validated) body and path, e.g. "admin when the project changes". */
export type AccessRule = AccessLevel | ((fields: Record<string, unknown>, caller: Caller) => AccessLevel);

/** A condition on the deployment checked before access, e.g. "only in standalone mode" (throws a DomainError). */
export type Precondition = (config: AppConfig) => void;

/**
 * Where the caller's project is named: the `project` field of the body (the original's routes), the
 * `:project` path parameter (/v1), or nowhere, for the admin routes of /v1 that act on no project in
 * particular: those act from the admin project (`[bmi] admin_project`).
 */
export type ProjectSource = 'body' | 'path' | 'admin';

interface AccessRequest {
  request: Request;
  body: Type | undefined;
  rule: AccessRule;
  preconditions: Precondition[];
  from: ProjectSource;
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
    private readonly idempotency: IdempotencyStore,
  ) {}

  async transform(req: AccessRequest): Promise<ProjectScope> {
    const body = (
      req.body
        ? await this.validation.transform(req.request.body, { type: 'body', metatype: req.body })
        : (req.request.body ?? {})
    ) as Record<string, unknown>;
    for (const precondition of req.preconditions) precondition(this.config);
    const project = this.project(req, body);
    const caller: Caller = {
      credentials: callerCredentials(req.request),
      project,
      address: req.request.socket.remoteAddress,
    };
    const fields = { ...(req.request.params ?? {}), ...body, project };
    const level = typeof req.rule === 'function' ? req.rule(fields, caller) : req.rule;
    // named before the check, so that a refused caller's access line and audit record say who tried
    noteCaller(req.request, caller.credentials.username.slice(0, 64), project);
    const scope = await this.access.resolve(caller, level);
    // an Idempotency-Key is claimed (or its kept answer found) only now that the caller's access is known
    await this.idempotency.claim(req.request, caller.credentials.username.slice(0, 64));
    return scope;
  }

  private project(req: AccessRequest, body: Record<string, unknown>): string {
    if (req.from === 'admin') return this.config.bmi.adminProject;
    if (req.from === 'body') return String(body.project);
    const name: unknown = req.request.params?.project;
    // a name that cannot be a project's is no project's: the same 404 as an unknown one, before any lookup
    if (!isSafeName(name)) throw new ProjectNotFoundError(String(name).slice(0, 64));
    return name;
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
  (declared: Pick<AccessRequest, 'rule' | 'preconditions' | 'from'>, ctx: ExecutionContext): AccessRequest => ({
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
  return accessRequest({ rule, preconditions, from: 'body' }, AccessPipe);
}

/** `@Access` for a /v1 route whose path names the project (`/v1/projects/:project/…`). */
export function AccessInPath(rule: AccessRule, ...preconditions: Precondition[]): ParameterDecorator {
  return accessRequest({ rule, preconditions, from: 'path' }, AccessPipe);
}

/** `@Access` for a /v1 route that acts on no project in particular: the caller acts from the admin project. */
export function AccessWithoutProject(rule: AccessRule, ...preconditions: Precondition[]): ParameterDecorator {
  return accessRequest({ rule, preconditions, from: 'admin' }, AccessPipe);
}

/** A /v1 admin route that acts on no project in particular. */
export function AdminAccess(...preconditions: Precondition[]): ParameterDecorator {
  return AccessWithoutProject('admin', ...preconditions);
}
