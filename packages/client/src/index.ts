/**
 * The SDK of BMI's /v1 API. The operations and types in `./generated` are generated from BMI's OpenAPI document
 * (`npm run sdk:generate` at the repository root); this file adds what every caller needs around them:
 * - `createBmiClient`: a client bound to one BMI and one user (HTTP Basic, UTF-8 credentials);
 * - `unwrap`: the data of a call, or a thrown `BmiApiError` carrying BMI's error code;
 * - `waitForOperation`: polls an operation that a 202 answered with until it ends, reporting its progress.
 */
import { type Client, createClient, createConfig } from './generated/client';
import { getOperation } from './generated/sdk.gen';
import type { ErrorBody, ErrorCode, Operation } from './generated/types.gen';

export * from './generated/sdk.gen';
export type * from './generated/types.gen';
export type { Client } from './generated/client';

export interface BmiClientOptions {
  /** where BMI listens, e.g. `http://127.0.0.1:7777` */
  baseUrl: string;
  username: string;
  password: string;
  /** another fetch (tests, proxies) */
  fetch?: typeof fetch;
  /** a time limit per request, in ms (none by default: long requests wait for BMI) */
  timeoutMs?: number;
}

/** `Basic <base64 of user:password in UTF-8>` (RFC 7617), in Node and in browsers alike. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** A client of one BMI as one user; pass it as `client` to every operation. */
export function createBmiClient(options: BmiClientOptions): Client {
  const { timeoutMs } = options;
  const baseFetch = options.fetch ?? globalThis.fetch;
  return createClient(
    createConfig({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { Authorization: basicAuthorization(options.username, options.password) },
      fetch:
        timeoutMs === undefined
          ? baseFetch
          : (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
              baseFetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    }),
  );
}

/** An error answer of BMI: its HTTP status, its code (one of ErrorCode) and what BMI said. */
export class BmiApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'UNEXPECTED_RESPONSE',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'BmiApiError';
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** No answer came back from BMI at all (refused, reset, timed out, a bad address); `reason` says which. */
export class BmiConnectionError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach BMI: ${reason}`, options);
    this.name = 'BmiConnectionError';
  }
}

/** fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED…) in its cause. */
function connectionReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const parts = [cause?.code, cause?.message, (error as { message?: unknown }).message];
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(': ') || String(error);
}

/**
 * The data of a call's answer; an error answer is thrown as a BmiApiError, and no answer at all as a
 * BmiConnectionError.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response?: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response === undefined) throw new BmiConnectionError(connectionReason(error), { cause: error });
  if (error === undefined && response.ok) return data as T;
  const status = response.status;
  if (isErrorBody(error)) throw new BmiApiError(status, error.code, error.message, error.details ?? {});
  throw new BmiApiError(status, 'UNEXPECTED_RESPONSE', `BMI answered ${status} without an error body`);
}

export interface WaitOptions {
  /** hears the operation each time it is read */
  onUpdate?: (op: Operation) => void;
  /** between two reads, in ms (default: 100 ms, doubling up to 1 s, so that short operations end quickly) */
  intervalMs?: number;
  /** give up after this long, in ms (default: never) */
  timeoutMs?: number;
}

/**
 * The states an operation is still on its way out of: `running`, and `interrupted` (its instance died; recovery
 * rolls it back or forward).
 */
export const UNFINISHED_STATES: readonly string[] = ['running', 'interrupted'];

/** The states in which an operation did what it was asked: `done`, and `rolled_forward` (completed by recovery). */
export const SUCCEEDED_STATES: readonly string[] = ['done', 'rolled_forward'];

/** Polls the operation of `project` until it ended (UNFINISHED_STATES); resolves with it as it ended. */
export async function waitForOperation(
  client: Client,
  project: string,
  id: string,
  options: WaitOptions = {},
): Promise<Operation> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let wait = 100;
  for (;;) {
    const op = await unwrap(getOperation({ client, path: { project, operation: id } }));
    options.onUpdate?.(op);
    if (!UNFINISHED_STATES.includes(op.state)) return op;
    if (Date.now() >= deadline) throw new Error(`operation ${id} still running after ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? wait));
    wait = Math.min(1000, wait * 2);
  }
}
