import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CompensationFailure } from '../errors/domain-error';
import { Action, SagaActions } from './actions';
import { JournaledOperation, withinOperation } from './journal';

/**
 * One step of a multi-step operation. A reversible step names the action that undoes it (`undo`), which
 * must work whatever part of `run` happened: recovery runs it for a step that was started when BMI died. An
 * irreversible step (the removal of an image) has no undo; its `redo` action, run by recovery, completes it.
 * Once an irreversible step ran, only irreversible steps may follow.
 */
export interface Step<T = void> {
  name: string;
  run(): Promise<T>;
  undo?: Action;
  redo?: Action;
  /**
   * For a step that cannot be undone: whether its error means it was refused before it acted (an image
   * that is busy). Any other failure may have left it half done: the operation is then not undone but
   * handed to recovery, which completes the step.
   */
  refused?: (error: unknown) => boolean;
}

/** Raised by the orchestrator when an operation failed; carries the compensations that failed in turn. */
export interface SagaFailureInfo {
  operation: string;
  failedStep: string;
  compensationFailures: CompensationFailure[];
}

/** Where a test may stop an operation dead: after a step was recorded, after it ran, after it was recorded done. */
export type FaultPoint = 'started' | 'ran' | 'done';

/**
 * Test-only: `BMI_TEST_KILL_AT=<kind>:<step number>:<point>` makes the process SIGKILL itself at that point
 * of that operation, and `BMI_TEST_KILL_FILE` names a file read at each step that may hold such a line (the
 * fault tests of a real BMI process arm it request by request); in-process tests set `sagaFaults.at` to
 * throw a SimulatedCrash, which stops the operation without compensation or an end, as a kill would.
 */
export const sagaFaults: { at?: (kind: string, step: number, point: FaultPoint) => void } = {};
const killAt = process.env.BMI_TEST_KILL_AT;
const killFile = process.env.BMI_TEST_KILL_FILE;

function armedKill(): string | undefined {
  if (!killFile) return killAt;
  try {
    return readFileSync(killFile, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
  }
}

function fault(kind: string, step: number, point: FaultPoint): void {
  if ((killAt || killFile) && armedKill() === `${kind}:${step}:${point}`) process.kill(process.pid, 'SIGKILL');
  sagaFaults.at?.(kind, step, point);
}

const logger = new Logger('Saga');

interface Completed {
  name: string;
  index: number | undefined;
  undo?: Action;
}

/**
 * The running operation, written top to bottom: `const row = await s.reserve(…)`, `await s.step(…)`. Each step
 * is recorded before it runs and when it ends; the steps that completed are undone, newest first, when the
 * operation fails (runSaga does it).
 */
export class Saga {
  private readonly completed: Completed[] = [];
  private irreversible = false;
  private count = 0;
  /** the step that failed, for the failure report */
  failedStep = '(between steps)';
  /** an irreversible step failed part way: recovery completes it instead of undoing the rest */
  handedToRecovery = false;

  constructor(
    readonly kind: string,
    private readonly actions: SagaActions,
    private readonly journal?: JournaledOperation,
  ) {}

  async step<T>(step: Step<T>): Promise<T> {
    if (this.irreversible && step.undo) {
      throw new Error(`${this.kind}: "${step.name}" can be undone but follows a step that cannot`);
    }
    const n = ++this.count;
    this.failedStep = step.name;
    const index = await this.journal?.started(step.name, { undo: step.undo, redo: step.redo });
    if (!step.undo) this.irreversible = true;
    let result: T;
    try {
      // a test's hook that throws here is the step failing (a dependency refusing it), or a crash
      fault(this.kind, n, 'started');
      result = await step.run();
    } catch (e) {
      if (e instanceof SimulatedCrash) throw e;
      if (!step.undo && !step.refused?.(e)) {
        // left `started`, with its redo: recovery completes it
        this.handedToRecovery = true;
        throw e;
      }
      await this.record(index, 'failed');
      throw e;
    }
    this.completed.push({ name: step.name, index, undo: step.undo });
    fault(this.kind, n, 'ran');
    // A step that cannot be undone has happened whatever the journal says: going on is the only consistent
    // choice (the failed write is logged). One that can be undone counts as failed and is undone instead.
    if (step.undo) await this.journal?.update(index!, 'done');
    else await this.record(index, 'done');
    fault(this.kind, n, 'done');
    this.failedStep = '(between steps)';
    return result;
  }

  /**
   * A database-only step that reserves what the operation will make (a row, and with its id the Ceph name),
   * written in one transaction with its journal record. Without a journal, `fn` gets no transaction.
   */
  async reserve<T>(name: string, fn: (tx?: EntityManager) => Promise<T>, undo: (result: T) => Action): Promise<T> {
    const n = ++this.count;
    this.failedStep = name;
    let result: T;
    let index: number | undefined;
    if (this.journal) {
      let action: Action | undefined;
      ({ result, index } = await this.journal.atomically(name, fn, (r) => (action = undo(r))));
      this.completed.push({ name, index, undo: action });
    } else {
      result = await fn(undefined);
      this.completed.push({ name, index, undo: undo(result) });
    }
    fault(this.kind, n, 'done');
    this.failedStep = '(between steps)';
    return result;
  }

  /** Undoes the completed steps, newest first; the undos that fail are returned (the others still run). */
  async compensate(cause: unknown): Promise<CompensationFailure[]> {
    const failures: CompensationFailure[] = [];
    for (const done of [...this.completed].reverse()) {
      if (!done.undo) continue;
      try {
        await this.actions.run(done.undo);
        await this.record(done.index, 'undone');
      } catch (undoError) {
        failures.push({ step: done.name, error: undoError });
        await this.record(done.index, 'undo_failed');
        logger.error(
          `${this.kind}: undo of "${done.name}" failed after "${this.failedStep}" failed; manual cleanup needed: ` +
            describe(undoError),
        );
      }
    }
    logger.warn(
      `${this.kind}: step "${this.failedStep}" failed (${describe(cause)}); ` +
        `${this.completed.filter((c) => c.undo).length} step(s) undone`,
    );
    return failures;
  }

  /** Journal writes on the failure path must not hide the operation's own error. */
  private async record(index: number | undefined, state: 'done' | 'failed' | 'undone' | 'undo_failed') {
    if (!this.journal || index === undefined) return;
    try {
      await this.journal.update(index, state);
    } catch (e) {
      logger.error(`operation ${this.journal.id}: the journal could not be written: ${describe(e)}`);
    }
  }
}

/**
 * Runs an operation written as a function of its saga. When it throws (a step failed, or a check between
 * steps), the steps that completed are undone in reverse order and the original error is rethrown, so the
 * caller sees the real cause and the system is left as it was found. An undo that fails is logged loudly and
 * recorded on the error (`error.saga`); the remaining undos still run. With a journal, every step and the end
 * are recorded, and the steps run as part of the operation (currentOperationId).
 *
 * This is the single orchestrator every multi-step operation goes through.
 */
export function runSaga<T>(
  kind: string,
  actions: SagaActions,
  journal: JournaledOperation | undefined,
  body: (s: Saga) => Promise<T>,
): Promise<T> {
  const saga = new Saga(kind, actions, journal);
  const go = async (): Promise<T> => {
    let result: T;
    try {
      result = await body(saga);
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      if (saga.handedToRecovery && journal) {
        logger.warn(`${kind}: "${saga.failedStep}" failed part way (${describe(error)}); recovery completes it`);
        await journal
          .handOver(`${saga.failedStep}: ${describe(error)}`)
          .catch((e: unknown) =>
            logger.error(`operation ${journal.id}: the journal could not be written: ${describe(e)}`),
          );
        throw error;
      }
      const compensationFailures = await saga.compensate(error);
      await endIgnoringErrors(
        journal,
        compensationFailures.length ? 'failed' : 'rolled_back',
        `${saga.failedStep}: ${describe(error)}`,
      );
      if (error !== null && typeof error === 'object') {
        const info: SagaFailureInfo = { operation: kind, failedStep: saga.failedStep, compensationFailures };
        Object.defineProperty(error, 'saga', { value: info, enumerable: false, configurable: true });
      }
      throw error;
    }
    await endIgnoringErrors(journal, 'done');
    return result;
  };
  return journal ? withinOperation(journal, go) : go();
}

async function endIgnoringErrors(
  journal: JournaledOperation | undefined,
  state: 'done' | 'rolled_back' | 'failed',
  error?: string,
): Promise<void> {
  if (!journal) return;
  try {
    await journal.end(state, error);
  } catch (e) {
    logger.error(`operation ${journal.id}: the journal could not be written: ${describe(e)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
