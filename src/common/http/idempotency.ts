import { createHash, randomUUID } from 'node:crypto';
import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Global,
  Injectable,
  Module,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiHeader } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { catchError, from, Observable, of, switchMap, throwError } from 'rxjs';
import { DataSource, IsNull, LessThan } from 'typeorm';
import { DbWriteLock } from '../concurrency/locks';
import { BadRequestError, ConflictError, DomainError } from '../errors/domain-error';
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

/**
 * What makes two requests the same one: method, path and body. Passwords are left out: the digest is kept a
 * day, and a fast hash of a password would be one a database reader could guess at leisure.
 */
export function requestDigest(method: string, path: string, body: unknown): string {
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body } : { body };
  for (const name of Object.keys(fields)) if (/password/i.test(name)) delete (fields as Record<string, unknown>)[name];
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(fields)}`)
    .digest('hex');
}

/** An Idempotency-Key request, from the interceptor to the access check that claims its key. */
interface KeyedRequest {
  key: string;
  request: string;
  /** the claim of the key by this request, once made: `claim:<uuid>`, held in the row until the answer */
  claim?: { actor: string; token: string };
}

type WithKey = Request & { idempotency?: KeyedRequest };

/** The kept answer of a request, thrown past the handler by the access check that found it. */
export class KeptAnswer extends Error {
  constructor(readonly row: IdempotencyKeyEntity) {
    super('a kept answer');
  }
}

/**
 * The keys, in BMI's database (every instance sharing it answers alike). A key belongs to a caller; a row's
 * `body` holds the claim of the request running with it (`claim:<uuid>`), then its answer.
 */
@Injectable()
export class IdempotencyStore {
  private purgedAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly dbLock: DbWriteLock,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(IdempotencyKeyEntity);
  }

  /**
   * Claims the key of `req` for `actor`, once access has been granted: throws the kept answer for a retry,
   * a 422 for the same key with another request, a 409 while the first still runs; resolves when this request
   * is the first (or takes over an abandoned claim). Does nothing for a request without a key.
   */
  async claim(req: Request, actor: string): Promise<void> {
    const keyed = (req as WithKey).idempotency;
    if (!keyed || keyed.claim) return;
    const { key, request } = keyed;
    const now = Date.now();
    if (now - this.purgedAt > 3600_000) {
      this.purgedAt = now;
      await this.dbLock.run(() => this.repo.delete({ createdAt: LessThan(now - IDEMPOTENCY_TTL_MS) }));
    }
    const token = `claim:${randomUUID()}`;
    await this.dbLock.run(() =>
      this.repo
        .createQueryBuilder()
        .insert()
        .values({ actor, key, request, status: null, body: token, location: null, createdAt: now })
        .orIgnore()
        .execute(),
    );
    const kept = await this.repo.findOneBy({ actor, key });
    if (!kept) throw new ConflictError('A request with this Idempotency-Key just failed; send it again');
    if (kept.body === token) {
      keyed.claim = { actor, token };
      return;
    }
    if (kept.request !== request) {
      throw new IdempotencyKeyReusedError('This Idempotency-Key was used for another request');
    }
    if (kept.status !== null) throw new KeptAnswer(kept);
    // a claim nobody answered for this long was its instance's last act (a crash): the retry takes it over
    if (kept.createdAt < now - ABANDONED_MS) {
      const taken = await this.dbLock.run(() =>
        this.repo.update({ actor, key, body: kept.body ?? '', status: IsNull() }, { body: token, createdAt: now }),
      );
      if (taken.affected) {
        keyed.claim = { actor, token };
        return;
      }
    }
    throw new ConflictError('The request with this Idempotency-Key is still running');
  }

  /** Keeps the answer of the request that holds the claim (not of one whose claim was taken over). */
  async keep(claim: KeyedRequest, status: number, body: unknown, location: string | null): Promise<void> {
    if (!claim.claim) return;
    const { actor, token } = claim.claim;
    await this.dbLock.run(() =>
      this.repo.update(
        { actor, key: claim.key, body: token },
        { status, body: body === undefined ? null : JSON.stringify(body), location },
      ),
    );
  }

  /** Frees the key of a request that failed, if it still holds it: the retry then runs. */
  async forget(claim: KeyedRequest): Promise<void> {
    if (!claim.claim) return;
    const { actor, token } = claim.claim;
    await this.dbLock.run(() => this.repo.delete({ actor, key: claim.key, body: token }));
  }
}

/**
 * Makes a create safe to retry: the first request with a given `Idempotency-Key` (per caller) runs and its
 * answer is kept for a day; a retry with the same key and the same request gets that answer again, with
 * `Idempotent-Replayed: true`, without running anything. The same key with another request is a 422; a retry
 * while the first still runs is a 409. A first request that failed leaves no answer behind: its retry runs; so
 * does the retry of one whose instance died before answering (unanswered for ABANDONED_MS).
 * The key is claimed by the route's access check (AccessPipe), after the credentials and the project were
 * checked: a kept answer goes to its caller only, and only while the caller still has access.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<WithKey>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = req.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new BadRequestError('Idempotency-Key must be 1-128 printable ASCII characters', {
        details: { fields: { 'Idempotency-Key': 'must be 1-128 printable ASCII characters' } },
      });
    }
    const keyed: KeyedRequest = { key, request: requestDigest(req.method, req.originalUrl.split('?')[0], req.body) };
    req.idempotency = keyed;
    // the route's own status (@HttpCode), the same for the first request and its retries
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? 200;
    return next.handle().pipe(
      switchMap((body: unknown) => {
        const location = res.getHeader('Location');
        return from(
          this.store.keep(keyed, status, body, typeof location === 'string' ? location : null).then(() => body),
        );
      }),
      catchError((e: unknown) => {
        if (e instanceof KeptAnswer) {
          res.setHeader('Idempotent-Replayed', 'true');
          if (e.row.location) res.setHeader('Location', e.row.location);
          return of(e.row.body === null ? undefined : (JSON.parse(e.row.body) as unknown));
        }
        // a failure leaves no answer: the key is free again for a retry
        return from(this.store.forget(keyed).catch(() => undefined)).pipe(switchMap(() => throwError(() => e)));
      }),
    );
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

@Global()
@Module({ providers: [IdempotencyStore, IdempotencyInterceptor], exports: [IdempotencyStore, IdempotencyInterceptor] })
export class IdempotencyModule {}
