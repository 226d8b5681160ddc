import { Logger } from '@nestjs/common';
import { SagaActions } from './actions';
import type { JournaledOperation, StepState } from './journal';
import { runSaga as runBody, SagaFailureInfo, SimulatedCrash, sagaFaults, Step } from './saga';

let actions: SagaActions;
/** what the `test.undo` action of each step does */
let undoFailures: Map<string, unknown>;

/** Runs a list of steps in order, as the services' saga bodies do. */
function runSaga(kind: string, steps: Step[], journal?: JournaledOperation): Promise<void> {
  return runBody(kind, actions, journal, async (s) => {
    for (const step of steps) await s.step(step);
  });
}

/** Steps that record what ran into one journal, so order can be asserted across run and undo. */
function recorder() {
  const journal: string[] = [];
  actions = new SagaActions();
  undoFailures = new Map();
  actions.register({
    'test.undo': async ({ name }) => {
      journal.push(`undo ${String(name)}`);
      if (undoFailures.has(String(name))) throw undoFailures.get(String(name));
    },
  });
  const step = (name: string, opts: { fail?: unknown; undoFails?: unknown; noUndo?: boolean } = {}): Step => {
    if (opts.undoFails !== undefined) undoFailures.set(name, opts.undoFails);
    return {
      name,
      run: async () => {
        journal.push(`run ${name}`);
        if (opts.fail !== undefined) throw opts.fail;
      },
      ...(opts.noUndo
        ? { redo: { type: 'test.redo', args: { name } } }
        : { undo: { type: 'test.undo', args: { name } } }),
    };
  };
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
      runSaga('op', [step('a'), step('b'), step('c', { noUndo: true }), step('d', { noUndo: true, fail: 1 })]),
    );
    expect(journal).toEqual(['run a', 'run b', 'run c', 'run d', 'undo b', 'undo a']);
  });

  it('refuses a reversible step after an irreversible one (recovery could not roll it forward)', async () => {
    const { journal, step } = recorder();
    const err = await failure(runSaga('op', [step('a'), step('b', { noUndo: true }), step('c')]));
    expect(err.message).toBe('op: "c" can be undone but follows a step that cannot');
    expect(journal).toEqual(['run a', 'run b', 'undo a']);
  });

  it('a check between steps that throws undoes what ran, like a failed step', async () => {
    const { journal, step } = recorder();
    const err = await failure(
      runBody('op', actions, undefined, async (s) => {
        await s.step(step('a'));
        throw new Error('the source is gone');
      }),
    );
    expect(err.message).toBe('the source is gone');
    expect(journal).toEqual(['run a', 'undo a']);
  });

  it('returns what the body returns, and a step what its run returns', async () => {
    recorder();
    const got = await runBody('op', actions, undefined, async (s) => {
      const n = await s.step({ name: 'n', run: async () => 41, undo: { type: 'test.undo', args: { name: 'n' } } });
      return n + 1;
    });
    expect(got).toBe(42);
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
    const steps = [step('a'), { ...flaky, undo: { type: 'test.undo', args: { name: 'flaky' } } }];
    await failure(runSaga('op', steps));
    failNext = false;
    await runSaga('op', steps);
    expect(journal).toEqual(['run a', 'undo a', 'run a']);
  });
});

/** A journaled operation that keeps what it is told; `failOn` makes one write fail. */
function journalOf(failOn?: string) {
  const entries: string[] = [];
  const names: string[] = [];
  const write = async (name: string, state: StepState) => {
    if (failOn === `${name} ${state}`) throw new Error('the database is gone');
    entries.push(`${name} ${state}`);
  };
  const op: JournaledOperation = {
    id: 'op-1',
    progress: () => undefined,
    started: async (name) => {
      names.push(name);
      await write(name, 'started');
      return names.length - 1;
    },
    update: (index, state) => write(names[index], state),
    atomically: async (name, fn, undo) => {
      const result = await fn({} as never);
      names.push(name);
      entries.push(`${name} done atomically, undo ${undo(result).type}`);
      return { result, index: names.length - 1 };
    },
    end: async (state, error) => void entries.push(`end ${state}${error ? `: ${error}` : ''}`),
    handOver: async (error) => void entries.push(`handed to recovery: ${error}`),
  };
  return { op, entries };
}

describe('runSaga with a journal', () => {
  it('records each step before it runs and as it completes, then the end', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await runSaga('op', [step('a'), step('b')], op);
    expect(entries).toEqual(['a started', 'a done', 'b started', 'b done', 'end done']);
  });

  it('a step that cannot be recorded before it runs does not run; the ones before are undone', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf('b started');
    await failure(runSaga('op', [step('a'), step('b')], op));
    expect(journal).toEqual(['run a', 'undo a']);
    expect(entries).toEqual(['a started', 'a done', 'a undone', 'end rolled_back: b: the database is gone']);
  });

  it('records the failed step, each undo, and a roll-back with the cause', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await failure(runSaga('op', [step('a'), step('b'), step('c', { fail: new Error('boom') })], op));
    expect(entries).toEqual([
      'a started',
      'a done',
      'b started',
      'b done',
      'c started',
      'c failed',
      'b undone',
      'a undone',
      'end rolled_back: c: boom',
    ]);
  });

  it('an undo that fails makes the end "failed" (manual cleanup), and the other undos still run', async () => {
    const { step } = recorder();
    const { op, entries } = journalOf();
    await failure(runSaga('op', [step('a'), step('b', { undoFails: new Error('stuck') }), step('c', { fail: 1 })], op));
    expect(entries.slice(-4)).toEqual(['c failed', 'b undo_failed', 'a undone', 'end failed: c: 1']);
  });

  it('an irreversible step whose completion cannot be recorded stands: the operation goes on', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf('b done');
    await runSaga('op', [step('a'), step('b', { noUndo: true }), step('c', { noUndo: true })], op);
    expect(journal).toEqual(['run a', 'run b', 'run c']);
    expect(entries).toEqual(['a started', 'a done', 'b started', 'c started', 'c done', 'end done']);
  });

  it('a step whose completion cannot be recorded counts as failed and is undone: the journal misses nothing', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf('b done');
    const err = await failure(runSaga('op', [step('a'), step('b'), step('c')], op));
    expect(err.message).toBe('the database is gone');
    expect(journal).toEqual(['run a', 'run b', 'undo b', 'undo a']);
    expect(entries.slice(-3)).toEqual(['b undone', 'a undone', 'end rolled_back: b: the database is gone']);
  });

  it('an irreversible step that fails part way is handed to recovery: nothing is undone, it stays started', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf();
    const timeout = new Error('osd timed out');
    await failure(runSaga('op', [step('a'), step('b', { noUndo: true, fail: timeout })], op));
    expect(journal).toEqual(['run a', 'run b']);
    expect(entries).toEqual(['a started', 'a done', 'b started', 'handed to recovery: b: osd timed out']);
  });

  it('an irreversible step refused before it acted is a plain failure: the steps before it are undone', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf();
    const busy = new Error('busy');
    const refusing = { ...step('b', { noUndo: true, fail: busy }), refused: (e: unknown) => e === busy };
    await failure(runSaga('op', [step('a'), refusing], op));
    expect(journal).toEqual(['run a', 'run b', 'undo a']);
    expect(entries.slice(-2)).toEqual(['a undone', 'end rolled_back: b: busy']);
  });

  it('a reserved row is recorded with its undo in one write', async () => {
    recorder();
    const { op, entries } = journalOf();
    const id = await runBody('op', actions, op, (s) =>
      s.reserve(
        'row',
        async () => 7,
        (n) => ({ type: 'test.undo', args: { name: `row ${n}` } }),
      ),
    );
    expect(id).toBe(7);
    expect(entries).toEqual(['row done atomically, undo test.undo', 'end done']);
  });

  it('a simulated crash stops the operation dead: no undo, no end (what recovery finds after a kill)', async () => {
    const { journal, step } = recorder();
    const { op, entries } = journalOf();
    sagaFaults.at = (kind, n, point) => {
      if (n === 2 && point === 'ran') throw new SimulatedCrash(`${kind} ${n} ${point}`);
    };
    try {
      await expect(runSaga('op', [step('a'), step('b'), step('c')], op)).rejects.toBeInstanceOf(SimulatedCrash);
    } finally {
      sagaFaults.at = undefined;
    }
    expect(journal).toEqual(['run a', 'run b']);
    expect(entries).toEqual(['a started', 'a done', 'b started']);
  });
});
