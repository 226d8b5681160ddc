import { Logger } from '@nestjs/common';
import { CompensationFailure } from '../errors/domain-error';
import { JournaledOperation, withinOperation } from './journal';

/**
 * One step of a multi-step operation, with the action that undoes it. A step without `undo` cannot be undone
 * (the irreversible last step of a removal) or needs no undo (a flatten whose image a previous step removes).
 */
export interface Step {
  name: string;
  run(): Promise<void>;
  undo?(): Promise<void>;
}

/** Raised by the orchestrator when an operation failed; carries the compensations that failed in turn. */
export interface SagaFailureInfo {
  operation: string;
  failedStep: string;
  compensationFailures: CompensationFailure[];
}

const logger = new Logger('Saga');

/**
 * Runs the steps in order. When one fails, the steps that completed are undone in reverse order and the
 * original error is rethrown, so the caller sees the real cause and the system is left as it was found.
 * An undo that fails is logged loudly and recorded on the error (`error.saga`); the remaining undos still run.
 *
 * This is the single orchestrator every multi-step operation goes through. With a journaled operation, every
 * step is recorded as it completes or is undone, and the end with it; a step whose completion cannot be
 * recorded counts as failed and is undone, so the journal misses no step that stands (a step that cannot be
 * undone stands anyway: the failed write is logged and the operation goes on).
 */
export async function runSaga(operation: string, steps: Step[], journal?: JournaledOperation): Promise<void> {
  if (journal) return withinOperation(journal.id, () => run(operation, steps, journal));
  return run(operation, steps, undefined);
}

async function run(operation: string, steps: Step[], journal: JournaledOperation | undefined): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    try {
      let ran = false;
      try {
        await step.run();
        ran = true;
        // A step that cannot be undone has happened whatever the journal says: going on is the only
        // consistent choice (its write is logged if it fails). One that can be undone is undone instead.
        if (step.undo) await journal?.step(step.name, 'done');
        else await record(journal, () => journal?.step(step.name, 'done'));
      } finally {
        if (ran) done.push(step);
      }
    } catch (error) {
      await record(journal, () => journal?.step(step.name, 'failed'));
      const compensationFailures: CompensationFailure[] = [];
      for (const prev of done.reverse()) {
        if (!prev.undo) continue;
        try {
          await prev.undo();
          await record(journal, () => journal?.step(prev.name, 'undone'));
        } catch (undoError) {
          compensationFailures.push({ step: prev.name, error: undoError });
          await record(journal, () => journal?.step(prev.name, 'undo_failed'));
          logger.error(
            `${operation}: undo of "${prev.name}" failed after "${step.name}" failed; manual cleanup needed: ${describe(undoError)}`,
          );
        }
      }
      logger.warn(`${operation}: step "${step.name}" failed (${describe(error)}); ${done.length} step(s) undone`);
      await record(journal, () =>
        journal?.end(compensationFailures.length ? 'failed' : 'rolled_back', `${step.name}: ${describe(error)}`),
      );
      if (error !== null && typeof error === 'object') {
        const info: SagaFailureInfo = { operation, failedStep: step.name, compensationFailures };
        Object.defineProperty(error, 'saga', { value: info, enumerable: false, configurable: true });
      }
      throw error;
    }
  }
  await record(journal, () => journal?.end('done'));
}

/** Journal writes on the failure path must not hide the operation's own error. */
async function record(journal: JournaledOperation | undefined, write: () => Promise<void> | undefined): Promise<void> {
  if (!journal) return;
  try {
    await write();
  } catch (e) {
    logger.error(`operation ${journal.id}: the journal could not be written: ${describe(e)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
