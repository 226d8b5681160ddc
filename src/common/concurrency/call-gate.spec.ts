import { CallGate } from './call-gate';

class Outage extends Error {}

function gate(now: { t: number }, maxConcurrent = 2) {
  return new CallGate({
    maxConcurrent,
    cooldownMs: 10_000,
    isOutage: (e) => e instanceof Outage,
    downError: (cause, retryInMs) => new Error(`down (${(cause as Error).message}), retry in ${retryInMs} ms`),
    now: () => now.t,
  });
}

/** A call that stays in flight until released. */
function pending() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { fn: () => done, release };
}

describe('CallGate', () => {
  it('lets at most maxConcurrent calls through; the others wait their turn, in order', async () => {
    const g = gate({ t: 0 });
    const calls = [pending(), pending(), pending(), pending()];
    const order: number[] = [];
    const runs = calls.map((c, i) => g.run(async () => (await c.fn(), order.push(i))));
    await Promise.resolve();
    expect(g.load).toEqual({ active: 2, waiting: 2 });
    calls[1].release();
    calls[0].release();
    calls[2].release();
    calls[3].release();
    await Promise.all(runs);
    expect(order).toEqual([1, 0, 2, 3]);
    expect(g.load).toEqual({ active: 0, waiting: 0 });
  });

  it('after an outage every call fails at once until the cooldown ends, without calling through', async () => {
    const now = { t: 1000 };
    const g = gate(now);
    await expect(g.run(() => Promise.reject(new Outage('timed out')))).rejects.toThrow('timed out');
    const fn = jest.fn(() => Promise.resolve(1));
    await expect(g.run(fn)).rejects.toThrow('down (timed out), retry in 10000 ms');
    now.t += 9_999;
    await expect(g.run(fn)).rejects.toThrow('retry in 1 ms');
    expect(fn).not.toHaveBeenCalled();
    now.t += 1;
    await expect(g.run(fn)).resolves.toBe(1);
    await expect(g.run(fn)).resolves.toBe(1);
  });

  it('calls already waiting when the outage is found fail at once too', async () => {
    const g = gate({ t: 0 }, 1);
    const first = pending();
    const running = g.run(async () => {
      await first.fn();
      throw new Outage('gone');
    });
    const queued = jest.fn(() => Promise.resolve('late'));
    const waiting = g.run(queued);
    first.release();
    await expect(running).rejects.toThrow('gone');
    await expect(waiting).rejects.toThrow(/^down \(gone\)/);
    expect(queued).not.toHaveBeenCalled();
  });

  it('after the cooldown one call probes while the others still fail at once; its success closes the breaker', async () => {
    const now = { t: 0 };
    const g = gate(now);
    await expect(g.run(() => Promise.reject(new Outage('timed out')))).rejects.toThrow('timed out');
    now.t += 10_000;
    const probe = pending();
    const probing = g.run(probe.fn);
    const other = jest.fn(() => Promise.resolve('x'));
    await expect(g.run(other)).rejects.toThrow(/^down \(timed out\)/);
    expect(other).not.toHaveBeenCalled();
    probe.release();
    await probing;
    await expect(g.run(other)).resolves.toBe('x');
  });

  it('a probe that meets the outage again reopens the breaker for a whole cooldown', async () => {
    const now = { t: 0 };
    const g = gate(now);
    await expect(g.run(() => Promise.reject(new Outage('first')))).rejects.toThrow('first');
    now.t += 10_000;
    await expect(g.run(() => Promise.reject(new Outage('again')))).rejects.toThrow('again');
    await expect(g.run(() => Promise.resolve(1))).rejects.toThrow('down (again), retry in 10000 ms');
  });

  it('its own refusals are not outages: the cause and the cooldown stay those of the dependency', async () => {
    const now = { t: 0 };
    const g = gate(now, 1);
    const first = pending();
    const running = g.run(async () => {
      await first.fn();
      throw new Outage('did not answer');
    });
    const queued = [g.run(() => Promise.resolve(1)), g.run(() => Promise.resolve(2)), g.run(() => Promise.resolve(3))];
    first.release();
    await expect(running).rejects.toThrow('did not answer');
    for (const q of queued) await expect(q).rejects.toThrow('down (did not answer), retry in 10000 ms');
    now.t += 10_000;
    await expect(g.run(() => Promise.resolve('back'))).resolves.toBe('back');
  });

  it('a refusal that is not an outage leaves the gate open', async () => {
    const g = gate({ t: 0 });
    await expect(g.run(() => Promise.reject(new Error('no such image')))).rejects.toThrow('no such image');
    await expect(g.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
