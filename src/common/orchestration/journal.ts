import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The journal of multi-step operations: what an operation set out to do, each step as it completes or is
 * undone, and how it ended. It lives in the database, so that an operation a crash cut short is still known
 * after a restart (state `interrupted`). Implemented by modules/operations; runSaga writes to it.
 */

/** What an operation is about to do; `args` holds the names it acts on (never a password). */
export interface OperationIntent {
  kind: string;
  project?: string;
  actor?: string;
  args: Record<string, string | number | boolean | null>;
}

export type StepState = 'done' | 'failed' | 'undone' | 'undo_failed';
/** rolled_back: a step failed and every completed step was undone; failed: an undo failed too. */
export type OperationEnd = 'done' | 'rolled_back' | 'failed';

export interface JournaledOperation {
  readonly id: string;
  step(name: string, state: StepState): Promise<void>;
  end(state: OperationEnd, error?: string): Promise<void>;
}

const current = new AsyncLocalStorage<string>();

/** Runs `fn` as part of the journaled operation `id`: its steps can name the operation (currentOperationId). */
export function withinOperation<T>(id: string, fn: () => Promise<T>): Promise<T> {
  return current.run(id, fn);
}

/** The id of the journaled operation whose step is running, if any. */
export function currentOperationId(): string | undefined {
  return current.getStore();
}

export abstract class OperationJournal {
  /** Records the intent; the operation then runs under this instance's lease until it ends. */
  abstract begin(intent: OperationIntent): Promise<JournaledOperation>;
}
