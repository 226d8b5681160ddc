import { Logger } from '@nestjs/common';
import { CompensationFailure } from '../errors/domain-error';

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
 * This is the single orchestrator every multi-step operation goes through; the journal of steps (crash
 * recovery) will hook in here.
 */
export async function runSaga(operation: string, steps: Step[]): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    try {
      await step.run();
      done.push(step);
    } catch (error) {
      const compensationFailures: CompensationFailure[] = [];
      for (const prev of done.reverse()) {
        if (!prev.undo) continue;
        try {
          await prev.undo();
        } catch (undoError) {
          compensationFailures.push({ step: prev.name, error: undoError });
          logger.error(
            `${operation}: undo of "${prev.name}" failed after "${step.name}" failed; manual cleanup needed: ${describe(undoError)}`,
          );
        }
      }
      logger.warn(`${operation}: step "${step.name}" failed (${describe(error)}); ${done.length} step(s) undone`);
      if (error !== null && typeof error === 'object') {
        const info: SagaFailureInfo = { operation, failedStep: step.name, compensationFailures };
        Object.defineProperty(error, 'saga', { value: info, enumerable: false, configurable: true });
      }
      throw error;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
