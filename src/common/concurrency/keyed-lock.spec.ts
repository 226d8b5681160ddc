import { KeyedLock } from './keyed-lock';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedLock', () => {
  it('runs exclusive holders of one key one after the other', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = lock.run([{ key: 'x', mode: 'exclusive' }], async () => {
      events.push('a start');
      await gate;
      events.push('a end');
    });
    const b = lock.run([{ key: 'x', mode: 'exclusive' }], async () => void events.push('b'));
    await tick();
    expect(events).toEqual(['a start']);
    release();
    await Promise.all([a, b]);
    expect(events).toEqual(['a start', 'a end', 'b']);
    expect(lock.busyKeys()).toEqual([]);
  });

  it('lets shared holders run together and makes a writer wait for them', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const r1 = lock.run([{ key: 'x', mode: 'shared' }], async () => {
      events.push('r1');
      await gate;
    });
    const r2 = lock.run([{ key: 'x', mode: 'shared' }], async () => void events.push('r2'));
    const w = lock.run([{ key: 'x', mode: 'exclusive' }], async () => void events.push('w'));
    await tick();
    expect(events).toEqual(['r1', 'r2']);
    release();
    await Promise.all([r1, r2, w]);
    expect(events).toEqual(['r1', 'r2', 'w']);
  });

  it('never deadlocks two holders asking for the same keys in opposite orders', async () => {
    const lock = new KeyedLock();
    const done: string[] = [];
    await Promise.all([
      lock.run(
        [
          { key: 'a', mode: 'exclusive' },
          { key: 'b', mode: 'exclusive' },
        ],
        async () => {
          await tick();
          done.push('ab');
        },
      ),
      lock.run(
        [
          { key: 'b', mode: 'exclusive' },
          { key: 'a', mode: 'exclusive' },
        ],
        async () => void done.push('ba'),
      ),
    ]);
    expect(done.sort()).toEqual(['ab', 'ba']);
  });

  it('does not block different keys and releases after a failure', async () => {
    const lock = new KeyedLock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = lock.run([{ key: 'a', mode: 'exclusive' }], () => gate);
    await expect(lock.run([{ key: 'b', mode: 'exclusive' }], async () => 'b')).resolves.toBe('b');
    release();
    await slow;
    await expect(
      lock.run([{ key: 'a', mode: 'exclusive' }], async () => Promise.reject(new Error('x'))),
    ).rejects.toThrow('x');
    await expect(lock.run([{ key: 'a', mode: 'exclusive' }], async () => 'again')).resolves.toBe('again');
    expect(lock.busyKeys()).toEqual([]);
  });

  it('treats a key asked twice as exclusive when either request is', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = lock.run(
      [
        { key: 'x', mode: 'shared' },
        { key: 'x', mode: 'exclusive' },
      ],
      async () => {
        events.push('first');
        await gate;
      },
    );
    const reader = lock.run([{ key: 'x', mode: 'shared' }], async () => void events.push('reader'));
    await tick();
    expect(events).toEqual(['first']);
    release();
    await Promise.all([first, reader]);
    expect(events).toEqual(['first', 'reader']);
  });
});
