import { RbdError, type Cluster, type IoCtx } from '../../src-ts';
import { connectTo, describeCeph, namer, purge } from './ceph-env';

jest.setTimeout(120_000);

const MiB = 1 << 20;

describeCeph('handles, concurrency and the event loop (real Ceph)', (env) => {
  const name = namer('hdl');
  const prefix = name('');
  let cluster: Cluster;
  let io: IoCtx;

  beforeAll(async () => {
    cluster = await connectTo(env);
    io = await cluster.openPool(env.pool);
  });

  afterAll(async () => {
    if (!io) return;
    const left = await purge(io, prefix);
    await io.close();
    await cluster.close();
    expect(left).toEqual([]);
  });

  describe('close()', () => {
    it('is refused with EBUSY while an IoCtx call is pending, and the IoCtx stays usable', async () => {
      const own = await cluster.openPool(env.pool);
      const pending = own.listImages();
      await expect(own.close()).rejects.toMatchObject({ constructor: RbdError, code: 'EBUSY', errno: 16, op: 'close' });
      expect(Array.isArray(await pending)).toBe(true);
      expect(own.closed).toBe(false);
      expect(Array.isArray(await own.listImages())).toBe(true);
      await own.close();
      expect(own.closed).toBe(true);
    });

    it('is refused with EBUSY while openPool is pending on the Cluster', async () => {
      const own = await connectTo(env);
      const opening = own.openPool(env.pool);
      await expect(own.close()).rejects.toMatchObject({ code: 'EBUSY', op: 'close' });
      const ioctx = await opening;
      await ioctx.close();
      await own.close();
    });

    it('is refused with EBUSY for a Cluster with an open IoCtx and an IoCtx with an open Image', async () => {
      const img = name('busy');
      await io.create(img, MiB);
      const own = await connectTo(env);
      const ioctx = await own.openPool(env.pool);
      const image = await ioctx.openImage(img);
      await expect(own.close()).rejects.toMatchObject({ code: 'EBUSY', op: 'close' });
      await expect(ioctx.close()).rejects.toMatchObject({ code: 'EBUSY', op: 'close' });
      const writing = image.write(0, Buffer.alloc(64 * 1024, 1));
      await expect(image.close()).rejects.toMatchObject({ code: 'EBUSY', op: 'close' });
      expect(await writing).toBe(64 * 1024);
      await image.close();
      await ioctx.close();
      await own.close();
      expect([image.closed, ioctx.closed, own.closed]).toEqual([true, true, true]);
    });

    it('is idempotent, and a closed handle rejects every call with EBADF', async () => {
      const img = name('closed');
      await io.create(img, MiB);
      const own = await connectTo(env);
      const ioctx = await own.openPool(env.pool);
      const image = await ioctx.openImage(img);
      await Promise.all([image.close(), image.close()]);
      await image.close();
      await expect(image.read(0, 1)).rejects.toMatchObject({ constructor: RbdError, code: 'EBADF', op: 'read' });
      await expect(image.size()).rejects.toMatchObject({ code: 'EBADF', op: 'size' });

      await ioctx.close();
      const calls: [string, () => Promise<unknown>][] = [
        ['listImages', () => ioctx.listImages()],
        ['create', () => ioctx.create(name('never'), MiB)],
        ['clone', () => ioctx.clone(img, 's', name('never2'))],
        ['snapCreate', () => ioctx.snapCreate(img, 's')],
        ['openImage', () => ioctx.openImage(img)],
      ];
      for (const [op, call] of calls) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RbdError);
        expect(error).toMatchObject({ code: 'EBADF', op });
        expect((error as Error).message).toContain('is closed');
      }

      await own.close();
      await expect(own.openPool(env.pool)).rejects.toMatchObject({ code: 'EBADF', op: 'openPool' });
      expect(await io.listImages()).not.toContain(name('never'));
    });
  });

  it('runs 20 clones at once (more than the libuv pool has threads), then 20 removes', async () => {
    const parent = name('fan');
    await io.create(parent, 16 * MiB);
    await io.snapCreate(parent, 'base');
    await io.snapProtect(parent, 'base');
    const children = Array.from({ length: 20 }, (_, i) => name(`fan-c${String(i).padStart(2, '0')}`));

    const results = await Promise.allSettled(children.map((child) => io.clone(parent, 'base', child)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const listed = (await io.children(parent, 'base')).map((c) => c.image).sort();
    expect(listed).toEqual(children);

    const parents = await Promise.all(children.map((child) => io.parentInfo(child)));
    expect(parents.every((p) => p?.image === parent && p.snapshot === 'base')).toBe(true);

    await Promise.all(children.map((child) => io.remove(child)));
    expect(await io.children(parent, 'base')).toEqual([]);
  });

  it('keeps the event loop responsive during a long flatten', async () => {
    // 2048 small objects with data: the flatten copies each one up (~0.4 s
    // on a memstore test cluster); a blocked loop would stall the timer for
    // all of it.
    const [parent, child] = [name('long'), name('long-c')];
    const objects = 2048;
    const order = 16;
    await io.create(parent, objects * 2 ** order, { order });
    const writer = await io.openImage(parent);
    const block = Buffer.alloc(4096, 0x5a);
    for (let i = 0; i < objects; i += 256) {
      await Promise.all(Array.from({ length: 256 }, (_, j) => writer.write((i + j) * 2 ** order, block)));
    }
    await writer.close();
    await io.snapCreate(parent, 'base');
    await io.snapProtect(parent, 'base');
    await io.clone(parent, 'base', child);

    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    let progressCalls = 0;
    const started = performance.now();
    try {
      await io.flatten(child, () => progressCalls++);
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThan(100); // else this test proves nothing
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 4));
    expect(maxGap).toBeLessThan(Math.max(100, elapsed / 3));
    expect(progressCalls).toBeGreaterThan(1);
    expect(await io.parentInfo(child)).toBeNull();
  });
});
