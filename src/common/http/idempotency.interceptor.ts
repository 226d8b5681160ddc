import { createHash, randomUUID } from 'node:crypto';
import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiHeader } from '@nestjs/swagger';
import type { Response } from 'express';
import { catchError, from, Observable, of, switchMap, throwError } from 'rxjs';
import { DataSource, IsNull, LessThan } from 'typeorm';
import { DbWriteLock } from '../concurrency/locks';
import { BadRequestError, ConflictError, DomainError } from '../errors/domain-error';
import { callerCredentials, CallerRequest } from './credentials';
import { IdempotencyKeyEntity } from './idempotency.entity';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/**
 * A first request still unanswered after this long died with its instance: no /v1 request runs that long (the
 * long operations answer 202 as soon as they start).
 */
export const ABANDONED_MS = 10 * 60 * 1000;
const KEY = /^[\x21-\x7e]{1,128}$/;

export class IdempotencyKeyReusedError extends DomainError {
  override readonly status = 422;
  override readonly code = 'IDEMPOTENCY_KEY_REUSED';
}

/** What makes two requests the same one: method, path and body. */
export function requestDigest(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? {})}`)
    .digest('hex');
}

/**
 * Makes a create safe to retry: the first request with a given `Idempotency-Key` (per caller) runs and its
 * answer is kept for a day; a retry with the same key and the same request gets that answer again, with
 * `Idempotent-Replayed: true`, without running anything. The same key with another request is a 422; a retry
 * while the first still runs is a 409. A first request that failed leaves no answer behind: its retry runs; so
 * does the retry of one whose instance died before answering (unanswered for ABANDONED_MS).
 * The keys live in the database, so every instance sharing it answers the same.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private purgedAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly dbLock: DbWriteLock,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<CallerRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = req.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new BadRequestError('Idempotency-Key must be 1-128 printable ASCII characters', {
        details: { fields: { 'Idempotency-Key': 'must be 1-128 printable ASCII characters' } },
      });
    }
    const actor = callerCredentials(req).username.slice(0, 64);
    const request = requestDigest(req.method, req.originalUrl.split('?')[0], req.body);
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? HttpStatus.OK;
    return from(this.claim(actor, key, request)).pipe(
      switchMap((replay) => {
        if (replay) {
          res.setHeader('Idempotent-Replayed', 'true');
          if (replay.location) res.setHeader('Location', replay.location);
          return of(replay.body === null ? undefined : (JSON.parse(replay.body) as unknown));
        }
        return next.handle().pipe(
          switchMap((body: unknown) => from(this.keep(actor, key, status, body, res).then(() => body))),
          // a failure leaves no answer: the key is free again for a retry
          catchError((e: unknown) =>
            from(this.forget(actor, key).catch(() => undefined)).pipe(switchMap(() => throwError(() => e))),
          ),
        );
      }),
    );
  }

  /** Null when this request is the first with the key; the kept answer when it is a retry. */
  private async claim(actor: string, key: string, request: string): Promise<IdempotencyKeyEntity | null> {
    const repo = this.dataSource.getRepository(IdempotencyKeyEntity);
    const now = Date.now();
    if (now - this.purgedAt > 3600_000) {
      this.purgedAt = now;
      await this.dbLock.run(() => repo.delete({ createdAt: LessThan(now - IDEMPOTENCY_TTL_MS) }));
    }
    // the row of the first request holds its claim in `body` until its answer replaces it
    const claim = `claim:${randomUUID()}`;
    await this.dbLock.run(() =>
      repo
        .createQueryBuilder()
        .insert()
        .values({ actor, key, request, status: null, body: claim, location: null, createdAt: now })
        .orIgnore()
        .execute(),
    );
    const kept = await repo.findOneBy({ actor, key });
    if (!kept) throw new ConflictError('A request with this Idempotency-Key just failed; send it again');
    if (kept.body === claim) return null;
    if (kept.request !== request) {
      throw new IdempotencyKeyReusedError('This Idempotency-Key was used for another request');
    }
    if (kept.status !== null) return kept;
    // a claim nobody answered for this long was its instance's last act (a crash): the retry takes it over
    if (kept.createdAt < now - ABANDONED_MS) {
      const taken = await this.dbLock.run(() =>
        repo.update({ actor, key, body: kept.body ?? '', status: IsNull() }, { body: claim, createdAt: now }),
      );
      if (taken.affected) return null;
    }
    throw new ConflictError('The request with this Idempotency-Key is still running');
  }

  private async keep(actor: string, key: string, status: number, body: unknown, res: Response): Promise<void> {
    const location = res.getHeader('Location');
    await this.dbLock.run(() =>
      this.dataSource.getRepository(IdempotencyKeyEntity).update(
        { actor, key },
        {
          status,
          body: body === undefined ? null : JSON.stringify(body),
          location: typeof location === 'string' ? location : null,
        },
      ),
    );
  }

  private async forget(actor: string, key: string): Promise<void> {
    await this.dbLock.run(() => this.dataSource.getRepository(IdempotencyKeyEntity).delete({ actor, key }));
  }
}

/** A create that an `Idempotency-Key` header makes safe to retry (IdempotencyInterceptor). */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'any 1-128 printable ASCII characters, unique per request: a retry with the same key and body answers ' +
        'what the first request answered (kept a day), without doing it again',
      schema: { type: 'string', maxLength: 128, example: '3f1c2a9e-create-web1' },
    }),
  );
}
