import { Logger } from '@nestjs/common';
import type { JournaledOperation } from './journal';
import { runSaga, SagaFailureInfo, Step } from './saga';

/** Steps that record what ran into one journal, so order can be asserted across run and undo. */
function recorder() {
  const journal: string[] = [];
  const step = (name: string, opts: { fail?: unknown; undoFails?: unknown; noUndo?: boolean } = {}): Step => ({
    name,
    run: async () => {
      journal.push(`run ${name}`);
      if (opts.fail !== undefined) throw opts.fail;
    },
    ...(opts.noUndo
      ? {}
      : {
          undo: async () => {
            journal.push(`undo ${name}`);
            if (opts.undoFails !== undefined) throw opts.undoFails;
          },
        }),
  });
  return { journal, step };
}

async function failure(p: Promise<unknown>): Promise<Error & { saga?: SagaFailureInfo }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { saga?: SagaFailureInfo };
  }
  throw new Error('expected the saga to fail');
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('runSaga', () => {
  it('runs every step in order and undoes nothing when all succeed', async () => {
    const { journal, step } = recorder();
    await runSaga('op', [step('a'), step('b'), step('c')]);
    expect(journal).toEqual(['run a', 'run b', 'run c']);
  });

  it('awaits each step before starting the next', async () => {
    const events: string[] = [];
    const slow: Step = {
      name: 'slow',
      run: () => new Promise((resolve) => setTimeout(() => (events.push('slow done'), resolve()), 10)),
    };
    const fast: Step = { name: 'fast', run: async () => void events.push('fast') };
    await runSaga('op', [slow, fast]);
    expect(events).toEqual(['slow done', 'fast']);
  });

  it('an empty list of steps succeeds', async () => {
    await expect(runSaga('op', [])).resolves.toBeUndefined();
  });

  it('on failure undoes the completed steps in reverse order, not the failed one, and skips the rest', async () => {
    const { journal, step } = recorder();
    const boom = new Error('boom');
    const err = await failure(runSaga('op', [step('a'), step('b'), step('c', { fail: boom }), step('d')]));
    expect(err).toBe(boom);
    expect(journal).toEqual(['run a', 'run b', 'run c', 'undo b', 'undo a']);
  });

  it('a failing first step undoes nothing', async () => {
    const { journal, step } = recorder();
    await failure(runSaga('op', [step('a', { fail: new Error('x') }), step('b')]));
    expect(journal).toEqual(['run a']);
  });

  it('rethrows the original error with the failed step and operation attached, not enumerable', async () => {
    const { step } = recorder();
    const boom = new TypeError('the real cause');
    const err = await failure(runSaga('create_disk', [step('insert'), step('clone', { fail: boom })]));
    expect(err).toBe(boom);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('the real cause');
    expect(err.saga).toEqual({ operation: 'create_disk', failedStep: 'clone', compensationFailures: [] });
    expect(Object.keys(err)).not.toContain('saga');
  });

  it('records failed undos on error.saga.compensationFailures and still runs the remaining undos', async () => {
    const { journal, step } = recorder();
    const undoB = new Error('undo b failed');
    const undoD = new Error('undo d failed');
    const boom = new Error('boom');
    const err = await failure(
      runSaga('op', [
        step('a'),
        step('b', { undoFails: undoB }),
        step('c'),
        step('d', { undoFails: undoD }),
        step('e', { fail: boom }),
      ]),
    );
    expect(err).toBe(boom);
    expect(journal).toEqual(['run a', 'run b', 'run c', 'run d', 'run e', 'undo d', 'undo c', 'undo b', 'undo a']);
    expect(err.saga?.compensationFailures).toEqual([
      { step: 'd', error: undoD },
      { step: 'b', error: undoB },
    ]);
  });

  it('logs each failed undo as an error naming both steps', async () => {
    const { step } = recorder();
    await failure(
      runSaga('op', [step('a', { undoFails: new Error('disk full') }), step('b', { fail: new Error('x') })]),
    );
    expect(Logger.prototype.error).toHaveBeenCalledTimes(1);
    expect(jest.mocked(Logger.prototype.error).mock.calls[0][0]).toEqual(
      expect.stringContaining('undo of "a" failed after "b" failed'),
    );
  });

  it('skips steps without undo', async () => {
    const { journal, step } = recorder();
    await failure(
      runSaga('op', [step('a'), step('b', { noUndo: true }), step('c'), step('d', { fail: new Error('x') })]),
    );
    expect(journal).toEqual(['run a', 'run b', 'run c', 'run d', 'undo c', 'undo a']);
  });

  it('rethrows a non-object error as is, without attaching anything', async () => {
    const { journal, step } = recorder();
    await expect(runSaga('op', [step('a'), step('b', { fail: 'plain string' })])).rejects.toBe('plain string');
    expect(journal).toEqual(['run a', 'run b', 'undo a']);
  });

  it('each run of the same step list starts with an empty history', async () => {
    const { journal, step } = recorder();
    let failNext = true;
    const flaky: Step = {
      name: 'flaky',
      run: async () => {
        if (failNext) throw new Error('once');
      },
    };
    const steps = [step('a'), flaky];
    await failure(runSaga('op', steps));
    failNext = false;
    await runSaga('op', steps);
    expect(journal).toEqual(['run a', 'undo a', 'run a']);
  });
});

/** A journaled operation that keeps what it is told; `failOn` makes one write fail. */
function journalOf(failOn?: string) {
  const entries: string[] = [];
  const op: JournaledOperation = {
    id: 'op-1',
    step: async (name, state) => {
      if (failOn === `${name} ${state}`) throw new Error('the database is gone');
      entries.push(`${name} ${state}`);
    },
    end: async (state, error) => void entries.push(`end ${state}${error ? `: ${error}` : ''}`),
  };
  return { op, entries };
}

describe('runSaga with a journal', () => {
  it('records each step as it completes, then the end', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await runSaga('op', [step('a'), step('b')], op);
    expect(entries).toEqual(['a done', 'b done', 'end done']);
  });

  it('records the failed step, each undo, and a roll-back with the cause', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await failure(runSaga('op', [step('a'), step('b'), step('c', { fail: new Error('boom') })], op));
    expect(entries).toEqual(['a done', 'b done', 'c failed', 'b undone', 'a undone', 'end rolled_back: c: boom']);
  });

  it('an undo that fails makes the end "failed" (manual cleanup), and the other undos still run', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await failure(runSaga('op', [step('a'), step('b', { undoFails: new Error('stuck') }), step('c', { fail: 1 })], op));
    expect(entries).toEqual(['a done', 'b done', 'c failed', 'b undo_failed', 'a undone', 'end failed: c: 1']);
  });

  it('an irreversible step whose completion cannot be recorded stands: the operation goes on', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf('b done');
    await runSaga('op', [step('a'), step('b', { noUndo: true }), step('c')], op);
    expect(journal).toEqual(['run a', 'run b', 'run c']);
    expect(entries).toEqual(['a done', 'c done', 'end done']);
  });

  it('a step whose completion cannot be recorded counts as failed and is undone: the journal misses nothing', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf('b done');
    const err = await failure(runSaga('op', [step('a'), step('b'), step('c')], op));
    expect(err.message).toBe('the database is gone');
    expect(journal).toEqual(['run a', 'run b', 'undo b', 'undo a']);
    expect(entries).toEqual(['a done', 'b failed', 'b undone', 'a undone', 'end rolled_back: b: the database is gone']);
  });
});
