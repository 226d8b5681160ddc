import type { NextFunction, Request, Response } from 'express';
import { BadRequestError } from '../errors/domain-error';

/** No BMI request nests its fields; 32 levels leave room for any client and none for a stack overflow. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses a parsed body nested deeper than `max` levels with a 400, before validation walks it (class-validator
 * and class-transformer recurse, and a body of a few thousand `[` under the size limit overflowed the stack).
 * The walk is iterative and stops at the first value too deep.
 */
export function limitBodyDepth(max = MAX_BODY_DEPTH) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(
      tooDeep(req.body, max) ? new BadRequestError(`the request body is nested deeper than ${max} levels`) : undefined,
    );
  };
}

export function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
