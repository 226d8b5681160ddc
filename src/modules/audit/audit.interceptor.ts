import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, concatMap, from, Observable, throwError } from 'rxjs';
import { toErrorReply } from '../../common/errors/error-body';
import { AUDITED } from '../../common/http/audited';
import type { CallerRequest } from '../../common/http/credentials';
import { isV1Path } from '../../common/http/v1-face';
import { requestFacts } from '../../common/observability/request-context';
import { AuditService } from './audit.service';

/** Body fields that name what a request acts on; nothing else of a body is kept (never a password). */
const NAME_FIELDS = [
  'name',
  'img',
  'image',
  'source',
  'disk_name',
  'snap',
  'snap_name',
  'node',
  'nic',
  'user',
  'label',
  'macaddr',
  'new_name',
  'dest_project',
  'target_project',
  'id',
  'fix',
];

/**
 * Writes one audit record per mutation: every PUT, PATCH and DELETE, every POST of /v1, and the POSTs marked
 * `@Audited()`. The record says who asked (the user name sent, refused callers included), from which project,
 * the operation and the names it acted on, the status and error code answered, the journaled operation it ran
 * and the request id. It is written before the answer is sent, so that a client holding the answer finds it;
 * a record that cannot be written is logged and does not change the answer.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!this.isMutation(ctx, req)) return next.handle();
    const handler = ctx.getHandler();
    const success = (this.reflector.get<number>(HTTP_CODE_METADATA, handler) ??
      (req.method === 'POST' ? 201 : 200)) as number;
    return next.handle().pipe(
      concatMap((body: unknown) => from(this.write(ctx, req, success, 'ok').then(() => body))),
      catchError((e: unknown) => {
        const reply = toErrorReply(e);
        // a throttled guess is counted (bmi_login_failures_total), not written: a flood must not fill the table
        if (reply.code === 'TOO_MANY_FAILED_LOGINS') return throwError(() => e);
        return from(this.write(ctx, req, reply.status, reply.code)).pipe(concatMap(() => throwError(() => e)));
      }),
    );
  }

  private isMutation(ctx: ExecutionContext, req: Request): boolean {
    if (['PUT', 'PATCH', 'DELETE'].includes(req.method)) return true;
    return req.method === 'POST' && (isV1Path(req.path) || this.reflector.get<boolean>(AUDITED, ctx.getHandler()));
  }

  private async write(ctx: ExecutionContext, req: Request, status: number, result: string): Promise<void> {
    const facts = { ...claimedCaller(req), ...requestFacts(req) };
    const route = (req.route as { path?: unknown } | undefined)?.path;
    try {
      await this.audit.record({
        at: Date.now(),
        actor: facts.user ?? '',
        project: facts.project ?? null,
        action: ctx.getHandler().name.slice(0, 64),
        route: `${req.method} ${typeof route === 'string' ? route : req.path}`.slice(0, 160),
        resource: JSON.stringify(namesOf(req)).slice(0, 512),
        status,
        result,
        operationId: facts.operationId ?? null,
        requestId: String((req as { id?: unknown }).id ?? '').slice(0, 128),
        client: req.socket.remoteAddress?.slice(0, 64) ?? null,
      });
    } catch (e) {
      this.logger.error(`the audit record of ${req.method} ${req.path} could not be written: ${String(e)}`);
    }
  }
}

/**
 * Who a request says it comes from, for a request refused before its access check named the caller (a body
 * that failed validation): the user of its credentials (which the route's guard parsed) and the project it
 * names.
 */
function claimedCaller(req: Request): { user?: string; project?: string } {
  const user = (req as CallerRequest).credentials?.username.slice(0, 64);
  const fromPath: unknown = req.params?.project;
  const fromBody: unknown = (req.body as { project?: unknown } | undefined)?.project;
  const project = [fromPath, fromBody].find((p): p is string => typeof p === 'string')?.slice(0, 64);
  return { user, project };
}

/** The names a request acts on: its path parameters but the project, and the naming fields of its body. */
function namesOf(req: Request): Record<string, string> {
  const names: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.params ?? {})) {
    if (key !== 'project' && typeof value === 'string') names[key] = value.slice(0, 64);
  }
  const body: unknown = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const key of NAME_FIELDS) {
      const value = (body as Record<string, unknown>)[key];
      if (['string', 'number', 'boolean'].includes(typeof value)) names[key] = String(value).slice(0, 64);
    }
  }
  return names;
}
