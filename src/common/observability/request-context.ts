import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a request has learnt while it ran, for its access line and its audit record: who called from which
 * project (named before the route's access check, so that a refused caller is known too), the journal
 * operation it ran, and the error code it ended with. Kept beside the request, never in a global.
 */
export interface RequestFacts {
  user?: string;
  project?: string;
  operationId?: string;
  errorCode?: string;
}

const facts = new WeakMap<IncomingMessage, RequestFacts>();

function factsOf(req: IncomingMessage): RequestFacts {
  let known = facts.get(req);
  if (!known) facts.set(req, (known = {}));
  return known;
}

export function noteCaller(req: IncomingMessage, user: string, project: string): void {
  Object.assign(factsOf(req), { user, project });
}

const current = new AsyncLocalStorage<IncomingMessage>();

/** Middleware: the code a request runs can name it (noteOperation), wherever the request is not passed. */
export function bindRequest(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
  current.run(req, next);
}

/**
 * The first journaled operation the running request began is its operation (a saga may begin nested ones);
 * nothing outside a request (the reconcilers' operations).
 */
export function noteOperation(operationId: string): void {
  const req = current.getStore();
  if (req) factsOf(req).operationId ??= operationId;
}

export function noteErrorCode(req: IncomingMessage, code: string): void {
  factsOf(req).errorCode = code;
}

export function requestFacts(req: IncomingMessage): Readonly<RequestFacts> {
  return facts.get(req) ?? {};
}
