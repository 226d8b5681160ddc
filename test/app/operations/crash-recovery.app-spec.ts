/**
 * Crash recovery of every multi-step operation, in process: the operation is stopped dead at each step (once
 * recorded as started, once its run returned, once recorded as done), as a SIGKILL would stop it: no undo, no
 * end. Its instance is then taken for dead and recovery runs. DB, pool, targets and boot files must be as
 * before the request (rolled back) or as after a clean run (rolled forward), and the retried request must
 * succeed. The same matrix against a real BMI process, Ceph and tgtd is test/faults.
 */
import { Logger } from '@nestjs/common';
import { FaultPoint, sagaFaults, SimulatedCrash } from '../../../src/common/orchestration/saga';
import { RbdImageBusyError } from '../../../src/modules/images/storage/storage.errors';
import { TypeOrmOperationJournal } from '../../../src/modules/operations/operation-journal.service';
import { dieAndRecover } from '../../utils/faults';
import { testEngine } from '../../utils/test-db';
import { ADMIN, ALICE, HIL_SEED_FILE, startTestApp, TestApp } from '../../utils/test-app';
import type { Response } from 'supertest';
import { DomainError } from '../../../src/common/errors/domain-error';
import { HilSeed, loadSeedFile } from '../../../src/modules/hil/hil-directory';
import { DeploymentsService } from '../../../src/modules/nodes/deployments.service';
import { addProject, call, captureState, createDisk, expectOk, importImage } from '../../utils/e2e';

const P = 'proj1';
const POINTS: FaultPoint[] = ['started', 'ran', 'done'];

/**
 * The points tried at step `n` of the case `c`: all three on SQLite; on PostgreSQL one per step, in turn (each
 * point still comes up across the steps and the cases). What differs between the engines is how the journal,
 * the locks and the rows are written, which every step exercises; the points are the saga's own business,
 * the same on both, and the full matrix runs on SQLite (and on real processes in the faults project).
 */
function pointsAt(n: number, c: number): FaultPoint[] {
  return testEngine() === 'postgres' ? [POINTS[(n + c) % POINTS.length]] : POINTS;
}

interface Case {
  kind: string;
  request: (t: TestApp) => ReturnType<typeof call> | Promise<Response>;
}

/** A service call answered as its route would: 200, or the status of its error (a crash is a 500). */
async function served(kind: string, work: () => Promise<unknown>): Promise<Response> {
  const req = { method: 'CALL', path: kind };
  try {
    await work();
    return { status: 200, text: '', req } as unknown as Response;
  } catch (e) {
    return { status: e instanceof DomainError ? e.status : 500, text: String(e), req } as unknown as Response;
  }
}

/** One request per multi-step operation, each on something the set-up made. */
const CASES: Case[] = [
  {
    kind: 'create_disk',
    request: (t) => call(t, 'put', '/create_disk', ALICE, { project: P, disk_name: 'd2', img: 'bmi_test' }),
  },
  { kind: 'delete_disk', request: (t) => call(t, 'delete', '/delete_disk', ALICE, { project: P, disk_name: 'spare' }) },
  {
    kind: 'create_snapshot',
    request: (t) => call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's2' }),
  },
  { kind: 'remove_image', request: (t) => call(t, 'delete', '/remove_image/', ALICE, { project: P, img: 's1' }) },
  { kind: 'import_image', request: (t) => call(t, 'put', '/import_image/', ADMIN, { project: P, img: 'raw2' }) },
  {
    kind: 'import_snapshot',
    request: (t) => call(t, 'put', '/import_image/', ADMIN, { project: P, img: 'raw3', snap: 'gold', protect: 'true' }),
  },
  {
    kind: 'copy_image',
    request: (t) => call(t, 'put', '/copy_image/', ALICE, { project: P, img: 's1', dest_project: P, new_name: 's1c' }),
  },
  {
    kind: 'export_image',
    request: (t) => call(t, 'put', '/export_image/', ADMIN, { project: P, img: 's1', name: 'out1' }),
  },
  { kind: 'mount_image', request: (t) => call(t, 'put', '/mount_image/', ADMIN, { project: P, img: 's1' }) },
  { kind: 'umount_image', request: (t) => call(t, 'delete', '/umount_image/', ADMIN, { project: P, img: 'm1' }) },
  { kind: 'delete_image', request: (t) => call(t, 'delete', '/delete_image/', ADMIN, { project: P, img: 's1' }) },
  {
    kind: 'provision',
    request: (t) =>
      call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'spare', nic: 'eth0' }),
  },
  {
    kind: 'deprovision',
    request: (t) => call(t, 'delete', '/deprovision/', ALICE, { project: P, node: 'node-01', nic: 'eth0' }),
  },
  // /v1 answers these with 202 and runs them in the background: called here as their route calls them
  {
    kind: 'deploy',
    request: (t) =>
      served('deploy', async () =>
        t.app.get(DeploymentsService).deploy(await t.scope(ALICE, P), 'node-03', { image: 'bmi_test' }),
      ),
  },
  {
    kind: 'release',
    request: (t) =>
      served('release', async () => t.app.get(DeploymentsService).release(await t.scope(ALICE, P), 'node-01')),
  },
];

/** The tests' HIL, with one more node of the project (free of boot files, for deploy). */
const SEED: HilSeed = (() => {
  const seed = loadSeedFile(HIL_SEED_FILE);
  seed.nodes['node-03'] = { project: P, nics: [{ label: 'eth0', macaddr: '52:54:00:12:34:03' }] };
  return seed;
})();

/** A project with a golden image, two disks (one provisioned), a snapshot, a mounted image and raw images. */
async function setUp(): Promise<TestApp> {
  const t = await startTestApp({ fakeImages: ['bmi_test', 'raw2', 'raw3', 'rawm'], hilSeed: SEED });
  await addProject(t, P);
  await importImage(t, P);
  await createDisk(t, ALICE, P, 'd1');
  await createDisk(t, ALICE, P, 'spare');
  await expectOk(call(t, 'put', '/create_snapshot/', ALICE, { project: P, disk_name: 'd1', snap_name: 's1' }));
  await expectOk(call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth0' }));
  await importImage(t, P, 'rawm');
  await expectOk(call(t, 'put', '/move_image/', ADMIN, { project: P, img: 'rawm', dest_project: P, new_name: 'm1' }));
  await expectOk(call(t, 'put', '/mount_image/', ADMIN, { project: P, img: 'm1' }));
  await t.storage.createSnapshot('raw3', 'gold');
  return t;
}

/**
 * The state with image ids renumbered in order of appearance, so that a retry after a roll-back (whose
 * reserved id is never reused) compares equal to a clean run; so are the random CHAP users, secrets and
 * initiator names (a script and its target must still agree: the same value gets the same number).
 */
function renumber(text: string, patterns: RegExp[]): string {
  for (const pattern of patterns) {
    const seen = new Map<string, number>();
    text = text.replace(pattern, (v) => {
      if (!seen.has(v)) seen.set(v, seen.size + 1);
      return `<random #${seen.get(v)}>`;
    });
  }
  return text;
}

async function normalizedState(t: TestApp): Promise<string> {
  const json = renumber(JSON.stringify(await captureState(t)), [
    /bmi-[0-9a-f]{16}/g,
    /iqn\.2026-11\.org\.bmi\.node:[0-9a-f]{24}/g,
    /(?<=set password )[A-Za-z0-9]{16}/g,
  ]);
  const ids = [...new Set([...json.matchAll(/5img(\d+)|"id":(\d+)/g)].map((m) => Number(m[1] ?? m[2])))].sort(
    (a, b) => a - b,
  );
  const rank = new Map(ids.map((id, i) => [id, i + 1]));
  return json
    .replace(/5img(\d+)/g, (_, id: string) => `5img#${rank.get(Number(id))}`)
    .replace(/"id":(\d+)/g, (_, id: string) => `"id":"#${rank.get(Number(id))}"`);
}

type Outcome = 'back' | 'forward' | 'no such point' | string;
const matrix = new Map<string, Outcome[]>();

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});
afterEach(() => {
  sagaFaults.at = undefined;
  jest.restoreAllMocks();
});
afterAll(() => {
  const lines = [...matrix].map(([kind, outcomes]) => `${kind.padEnd(16)} ${outcomes.join(' ')}`);
  process.stdout.write(`\ncrash matrix (step.point: back | forward):\n${lines.join('\n')}\n`);
});

describe.each(CASES.map((c, index) => ({ ...c, index })))('$kind killed at each step', ({ kind, request, index }) => {
  let clean: { before: string; after: string; steps: number };

  beforeAll(async () => {
    const t = await setUp();
    try {
      const before = await normalizedState(t);
      await expectOk(request(t));
      const journal = t.app.get(TypeOrmOperationJournal);
      const [op] = await journal.list({ limit: 1 });
      expect(op.kind).toBe(kind);
      clean = { before, after: await normalizedState(t), steps: op.steps.length };
    } finally {
      await t.close();
    }
  });

  it('converges at every step and point, and the retry succeeds', async () => {
    const outcomes: Outcome[] = [];
    for (let n = 1; n <= clean.steps; n++) {
      for (const point of pointsAt(n, index)) {
        const t = await setUp();
        try {
          let fired = false;
          sagaFaults.at = (k, step, p) => {
            if (k === kind && step === n && p === point) {
              fired = true;
              throw new SimulatedCrash(`${k} ${step} ${p}`);
            }
          };
          await request(t);
          sagaFaults.at = undefined;
          if (!fired) {
            // a reserved row is written with its record at once: it has only the `done` point
            expect(point).not.toBe('done');
            outcomes.push(`${n}.${point}:-`);
            continue;
          }
          await dieAndRecover(t);
          const state = await normalizedState(t);
          const [op] = await t.app.get(TypeOrmOperationJournal).list({ limit: 1 });
          if (state === clean.before) {
            expect(op.state).toBe('rolled_back');
            await expectOk(request(t));
            expect(await normalizedState(t)).toBe(clean.after);
            outcomes.push(`${n}.${point}:back`);
          } else {
            expect({ step: n, point, state: JSON.parse(state) }).toEqual({
              step: n,
              point,
              state: JSON.parse(clean.after),
            });
            expect(op.state).toBe('rolled_forward');
            outcomes.push(`${n}.${point}:forward`);
          }
        } finally {
          sagaFaults.at = undefined;
          await t.close();
        }
      }
    }
    matrix.set(kind, outcomes);
  });
});

describe.each(CASES)('$kind failing at each step', ({ kind, request }) => {
  it('is answered with an error and leaves everything as it was; then the retry succeeds', async () => {
    const t = await setUp();
    try {
      const before = await normalizedState(t);
      for (let n = 1; ; n++) {
        let fired = false;
        // the first point of step n: a dependency refusing the step (a reserved row fails right after it)
        sagaFaults.at = (k, step) => {
          if (k === kind && step === n && !fired) {
            fired = true;
            // refused before it acted (as Ceph refuses a busy image): for every kind of step, undone at once
            throw new RbdImageBusyError(`injected refusal at step ${n}`);
          }
        };
        const reply = await request(t);
        sagaFaults.at = undefined;
        if (!fired) {
          // past the last step: this was the retry, and it went through
          expect({ n, status: reply.status }).toEqual({ n, status: 200 });
          expect(n).toBeGreaterThan(1);
          break;
        }
        expect({ n, status: reply.status }).toEqual({ n, status: 409 });
        expect({ n, state: await normalizedState(t) }).toEqual({ n, state: before });
        const [op] = await t.app.get(TypeOrmOperationJournal).list({ limit: 1 });
        expect({ n, state: op.state }).toEqual({ n, state: 'rolled_back' });
      }
    } finally {
      sagaFaults.at = undefined;
      await t.close();
    }
  });
});

it('a kill outside any step leaves nothing to recover', async () => {
  const t = await setUp();
  try {
    expect(await normalizedState(t)).toBe(await normalizedState(t));
    await dieAndRecover(t);
    expect(await t.app.get(TypeOrmOperationJournal).list({ state: 'interrupted' })).toEqual([]);
  } finally {
    await t.close();
  }
});

export {};
// keep the type of the hook checked against the saga's
void (SimulatedCrash satisfies new (where: string) => Error);
