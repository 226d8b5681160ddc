/**
 * A stop by signal: no new requests, readiness 503, and the operations under way end before the app closes
 * (within the grace period); what would outlive it is left to the journal.
 */
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { basicAuthHeader } from '../../src/common/http/basic-auth';
import { GracefulShutdown } from '../../src/modules/service/graceful-shutdown';
import { ReadinessService } from '../../src/modules/service/readiness.service';
import { TypeOrmOperationJournal } from '../../src/modules/operations/operation-journal.service';
import { ADMIN, startTestApp, TestApp } from '../utils/test-app';

let t: TestApp;
let url: string;

beforeEach(async () => {
  for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  t = await startTestApp({ env: { BMI_REST_API_SHUTDOWN_GRACE_SECONDS: '1' } });
  await t.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  expect(
    (
      await t
        .http()
        .post('/v1/projects')
        .set({ Authorization: basicAuthHeader(ADMIN) })
        .send({ name: 'p1' })
    ).status,
  ).toBe(201);
});
afterEach(async () => {
  await t.close();
  jest.restoreAllMocks();
});

/** An import whose flatten waits for `release`: an operation under way. */
async function slowImport(): Promise<{ id: string; release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const flatten = t.storage.flatten.bind(t.storage);
  jest.spyOn(t.storage, 'flatten').mockImplementation(async (...args) => {
    await gate;
    return flatten(...args);
  });
  const r = await fetch(`${url}/v1/projects/p1/images/import`, {
    method: 'POST',
    headers: { Authorization: basicAuthHeader(ADMIN), 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: 'bmi_test' }),
  });
  expect(r.status).toBe(202);
  return { id: ((await r.json()) as { id: string }).id, release };
}

describe('a stop by signal', () => {
  it('takes no new request, says it is not ready, and lets the running operation end first', async () => {
    const { id, release } = await slowImport();
    let stopped = false;
    const stop = t.app
      .get(GracefulShutdown)
      .beforeApplicationShutdown('SIGTERM')
      .then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(await t.app.get(ReadinessService).check()).toMatchObject({ ready: false });
    release();
    await stop;
    expect((await t.app.get(TypeOrmOperationJournal).get(id))?.state).toBe('done');
  });

  it('leaves an operation that outlives the grace period running, for the journal to recover', async () => {
    const { id, release } = await slowImport();
    const started = Date.now();
    await t.app.get(GracefulShutdown).beforeApplicationShutdown('SIGTERM');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await t.app.get(TypeOrmOperationJournal).get(id))?.state).toBe('running');
    release();
  });
});
