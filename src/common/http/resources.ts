import { createHash } from 'node:crypto';
import { CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor, Type } from '@nestjs/common';
import { ApiHeader, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { Request, Response } from 'express';
import { map, Observable } from 'rxjs';
import type { LockedCheck } from '../concurrency/locks';
import { BadRequestError, DomainError } from '../errors/domain-error';
import { WholeNumberField } from './fields';

/** The version of a resource: a hash of its representation, so that any change to what a client sees changes it. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`;
}

export class PreconditionFailedError extends DomainError {
  override readonly status = 412;
  override readonly code = 'PRECONDITION_FAILED';
}

/**
 * Refuses a change whose `If-Match` names no current version of the resource (412); no header, or `*`,
 * matches any. Weak and strong forms of a tag compare alike.
 */
export function assertIfMatch(header: string | undefined, current: unknown): void {
  if (header === undefined || header.trim() === '*') return;
  const tag = etagOf(current);
  const given = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!given.includes(tag)) {
    throw new PreconditionFailedError(`The resource changed: its version is now ${tag}`, { details: { etag: tag } });
  }
}

/**
 * The precondition of a change sent with `If-Match`, for the operation to check under its locks (so that two
 * changes made from the same version cannot both pass); none without the header.
 */
export function ifMatches(header: string | undefined, current: () => Promise<unknown>): LockedCheck | undefined {
  if (header === undefined) return undefined;
  return async () => assertIfMatch(header, await current());
}

/** Sets `ETag` on the answer of a route that returns one resource (not a page, not nothing). */
@Injectable()
export class ETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (body !== null && typeof body === 'object' && !('items' in body) && !res.headersSent) {
          res.setHeader('ETag', etagOf(body));
        }
        return body;
      }),
    );
  }
}

const ifMatchHeader = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string | undefined =>
    ctx.switchToHttp().getRequest<Request>().headers['if-match'],
);

/**
 * The `If-Match` header of a route that changes or removes a resource (for assertIfMatch), documented as an
 * optional header of the route.
 */
export function IfMatch(): ParameterDecorator {
  const documented = ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'act only if the resource is still at this version (its ETag); 412 otherwise',
    schema: { type: 'string', example: '"q3Z5n1mC2Y0dYh8bAqv1mIuGZfE"' },
  });
  return (target, key, index) => {
    ifMatchHeader()(target, key, index);
    if (key !== undefined) documented(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}

/** `?limit=&cursor=` of every listing. */
export class PageQueryDto {
  @WholeNumberField('at most this many items (default 100)', 1, 1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'where to go on from: the `next_cursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * One page of `items` in the order of `key` (unique per item): the items after the cursor's key. The cursor
 * is the last key of the page, opaque to clients; a listing that changes between pages neither repeats nor
 * skips the items that stay.
 */
export function paginate<T>(items: T[], key: (item: T) => string, query: PageQueryDto): Page<T> {
  const limit = query.limit ?? 100;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const sorted = items.map((item) => ({ item, k: key(item) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((e) => e.k > after);
  const page = rest.slice(0, limit);
  return {
    items: page.map((e) => e.item),
    next_cursor: rest.length > limit ? encodeCursor(page[page.length - 1].k) : null,
  };
}

export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value.after === 'string') return value.after;
  } catch {
    // reported below
  }
  throw unknownCursor();
}

/** The 400 of a cursor this API did not give. */
export function unknownCursor(): BadRequestError {
  return new BadRequestError('cursor is not one this API gave', { details: { fields: { cursor: 'unknown cursor' } } });
}

/** The schema of a page of `type`, named `<name>` in the document. */
export function PageOf<T>(type: Type<T>, name: string): Type<Page<T>> {
  class PageDto {
    @ApiProperty({ type: [type] })
    items: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'pass as `cursor` for the next page; null on the last page',
      example: null,
    })
    next_cursor: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: name });
  return PageDto;
}
