import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';
import type { Action } from './actions';

/**
 * The journal of multi-step operations: what an operation set out to do, each step before it runs (with the
 * action that undoes it, or for a step that cannot be undone the action that completes it), each step's
 * outcome, and how the operation ended. It lives in the database, so that an operation a crash cut short is
 * still known after a restart and can be rolled back or forward. Implemented by modules/operations; the saga
 * runner writes to it.
 */

/** What an operation is about to do; `args` holds the names it acts on (never a password). */
export interface OperationIntent {
  kind: string;
  project?: string;
  actor?: string;
  args: Record<string, string | number | boolean | null>;
}

/**
 * started: recorded before the step runs (it may have happened in part); done; failed (its run failed and
 * cleaned up after itself); undone / undo_failed: compensated at run time or by recovery; redone: an
 * irreversible step completed by recovery.
 */
export type StepState = 'started' | 'done' | 'failed' | 'undone' | 'undo_failed' | 'redone';

/** One step as the journal keeps it. */
export interface StepRecord {
  name: string;
  state: StepState;
  /** ms since the epoch when the step started */
  at: number;
  /** how long its run took, once it ended */
  ms?: number;
  /** how to undo it (a reversible step) */
  undo?: Action;
  /** how to complete it (an irreversible step) */
  redo?: Action;
}

/** rolled_back: a step failed and every completed step was undone; failed: an undo failed too. */
export type OperationEnd = 'done' | 'rolled_back' | 'failed';

export interface JournaledOperation {
  readonly id: string;
  /** Records a step about to run; returns its index for the updates that follow. */
  started(name: string, how: { undo?: Action; redo?: Action }): Promise<number>;
  /** Records what became of the step `index`. */
  update(index: number, state: StepState): Promise<void>;
  /**
   * Runs a database-only step in one transaction with its journal record, so that what it wrote (a reserved
   * row) is known to the journal exactly when it exists. `undo` is computed from what `fn` returned.
   * Resolves to that result and the step's index.
   */
  atomically<T>(
    name: string,
    fn: (tx: EntityManager) => Promise<T>,
    undo: (result: T) => Action,
  ): Promise<{ result: T; index: number }>;
  end(state: OperationEnd, error?: string): Promise<void>;
  /**
   * Records how far the running step got; written at most about once a second (and at its end), never
   * failing the step.
   */
  progress(done: number, total: number): void;
  /** Ends the run here and leaves the operation to recovery (state interrupted), which rolls it forward. */
  handOver(error: string): Promise<void>;
}

const current = new AsyncLocalStorage<Pick<JournaledOperation, 'id'> & Partial<Pick<JournaledOperation, 'progress'>>>();

/**
 * Runs `fn` as part of the journaled operation `op`: its steps can name the operation (currentOperationId) and
 * report their progress to it (reportProgress).
 */
export function withinOperation<T>(
  op: Pick<JournaledOperation, 'id'> & Partial<Pick<JournaledOperation, 'progress'>>,
  fn: () => Promise<T>,
): Promise<T> {
  return current.run(op, fn);
}

/** The id of the journaled operation whose step is running, if any. */
export function currentOperationId(): string | undefined {
  return current.getStore()?.id;
}

/** How far the running step got (`done` of `total` units), for the operation's pollers; nothing outside one. */
export function reportProgress(done: number, total: number): void {
  current.getStore()?.progress?.(done, total);
}

/**
 * reportProgress for the operation running now, to be called later from elsewhere (the requests that bring an
 * upload its data run outside the operation's context).
 */
export function progressReporter(): (done: number, total: number) => void {
  const op = current.getStore();
  return (done, total) => op?.progress?.(done, total);
}

/**
 * Calls `onBegin` with the id of the first journaled operation `fn` begins, as soon as it is recorded: what an
 * API that answers "202, poll this operation" waits for before answering, while `fn` goes on.
 */
export function watchOperations<T>(onBegin: (id: string) => void, fn: () => Promise<T>): Promise<T> {
  return watchers.run(onBegin, fn);
}

const watchers = new AsyncLocalStorage<(id: string) => void>();

/** Tells the watcher around the running code (watchOperations) that operation `id` began. */
export function announceOperation(id: string): void {
  watchers.getStore()?.(id);
}

export abstract class OperationJournal {
  /** Records the intent; the operation then runs under this instance's lease until it ends. */
  abstract begin(intent: OperationIntent): Promise<JournaledOperation>;
}
