import { applyDecorators, Type } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { Idempotent } from './idempotency';
import { ApiErrors } from './v1-face';

/*
 * The status itself is set with `@HttpCode` on the method, in sight of the Swagger plugin: it documents a
 * default status (201 for POST, 200 otherwise) for methods without one.
 */
const LOCATION = { Location: { description: 'the new resource', schema: { type: 'string' } } };

/** A create: 201 with the resource and its Location; an Idempotency-Key makes a retry answer the same. */
export function V1Create(type: Type, ...errors: number[]): MethodDecorator {
  return applyDecorators(Idempotent(), ApiCreatedResponse({ type, headers: LOCATION }), ApiErrors(409, 422, ...errors));
}

/**
 * A long operation: 202 with the operation to poll (Location: the operation), answered as soon as it is
 * recorded; an Idempotency-Key makes a retry answer the same operation instead of starting another.
 */
export function V1Launch(type: Type, ...errors: number[]): MethodDecorator {
  return applyDecorators(
    Idempotent(),
    ApiAcceptedResponse({ type, description: 'the operation, to poll until it ends', headers: LOCATION }),
    ApiErrors(409, 422, ...errors),
  );
}

/** A removal: 204 (the method says so); one that takes If-Match (IfMatch()) adds 412 to `errors`. */
export function V1Delete(...errors: number[]): MethodDecorator {
  return applyDecorators(ApiNoContentResponse({ description: 'removed' }), ApiErrors(409, ...errors));
}

export function setLocation(res: Response, path: string): void {
  res.setHeader('Location', path);
}
