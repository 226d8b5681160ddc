import { RbdError, type Cluster, type IoCtx } from '../../src-ts';
import { connectTo, describeCeph, namer, purge } from './ceph-env';

jest.setTimeout(60_000);

const MiB = 1 << 20;

describeCeph('image metadata (real Ceph)', (env) => {
  const name = namer('meta');
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

  it('sets, gets, lists and removes keys; a missing key reads as null and removes without error', async () => {
    const img = name('basic');
    await io.create(img, MiB);
    expect(await io.metadataList(img)).toEqual({});
    await expect(io.metadataGet(img, 'bmi.owner')).resolves.toBeNull();

    await io.metadataSet(img, 'bmi.owner', 'alice');
    await io.metadataSet(img, 'bmi.note', '');
    await io.metadataSet(img, 'bmi.owner', 'bob'); // overwrites
    await expect(io.metadataGet(img, 'bmi.owner')).resolves.toBe('bob');
    await expect(io.metadataGet(img, 'bmi.note')).resolves.toBe('');
    expect(await io.metadataList(img)).toEqual({ 'bmi.note': '', 'bmi.owner': 'bob' });

    await io.metadataRemove(img, 'bmi.owner');
    await io.metadataRemove(img, 'bmi.owner'); // gone already: still fine
    await expect(io.metadataGet(img, 'bmi.owner')).resolves.toBeNull();
    expect(await io.metadataList(img)).toEqual({ 'bmi.note': '' });
  });

  it('sets several keys with one open (metadataSetMany); on a refused key, the keys before it are set', async () => {
    const img = name('many-at-once');
    await io.create(img, MiB);
    await io.metadataSetMany(img, { 'bmi.uid': 'u1', 'bmi.operation': '', 'bmi.source': 'gold@snap' });
    expect(await io.metadataList(img)).toEqual({ 'bmi.operation': '', 'bmi.source': 'gold@snap', 'bmi.uid': 'u1' });
    await io.metadataSetMany(img, {}); // nothing to set: the image is still opened, and exists
    // librbd refuses unknown conf_ keys (EINVAL)
    await expect(
      io.metadataSetMany(img, { 'bmi.a': '1', conf_no_such_option: 'x', 'bmi.b': '2' }),
    ).rejects.toMatchObject({
      code: 'EINVAL',
    });
    const after = await io.metadataList(img);
    expect(after['bmi.a']).toBe('1');
    expect(after['bmi.b']).toBeUndefined();
    await expect(io.metadataSetMany(name('ghost2'), { k: 'v' })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a missing image as ENOENT from the open, for every metadata call', async () => {
    const ghost = name('ghost');
    const target = `${env.pool}/${ghost}`;
    const notFound = (op: string) => ({ constructor: RbdError, code: 'ENOENT', op, target });
    await expect(io.metadataGet(ghost, 'k')).rejects.toMatchObject(notFound('rbd_open_read_only'));
    await expect(io.metadataList(ghost)).rejects.toMatchObject(notFound('rbd_open_read_only'));
    await expect(io.metadataSet(ghost, 'k', 'v')).rejects.toMatchObject(notFound('rbd_open'));
    await expect(io.metadataRemove(ghost, 'k')).rejects.toMatchObject(notFound('rbd_open'));
  });

  it('keeps values longer than the first buffer, and any UTF-8 key and value', async () => {
    const img = name('big');
    await io.create(img, MiB);
    const big = 'x'.repeat(70_000);
    const odd = 'sp ace/ü\u{1F600}';
    await io.metadataSet(img, 'big', big);
    await io.metadataSet(img, odd, 'multi\nline ✓');
    await io.metadataSet(img, '__proto__', 'plain key');
    expect(await io.metadataGet(img, 'big')).toBe(big);
    expect(await io.metadataGet(img, odd)).toBe('multi\nline ✓');
    const listed = await io.metadataList(img);
    expect(Object.getPrototypeOf(listed)).toBe(Object.prototype);
    expect(Object.keys(listed).sort()).toEqual(['__proto__', 'big', odd].sort());
    expect(listed.big).toBe(big);
    expect(listed['__proto__']).toBe('plain key');
  });

  it('lists more keys than one rbd_metadata_list page (64) holds', async () => {
    const img = name('many');
    await io.create(img, MiB);
    const expected: Record<string, string> = {};
    for (let i = 0; i < 150; i++) expected[`k${String(i).padStart(3, '0')}`] = `value ${i}`;
    for (const [key, value] of Object.entries(expected)) await io.metadataSet(img, key, value);
    const listed = await io.metadataList(img);
    expect(Object.keys(listed)).toHaveLength(150);
    expect(listed).toEqual(expected);
  });

  it('refuses conf_ keys librbd does not know as image settings: EINVAL from rbd_metadata_set', async () => {
    const img = name('conf');
    await io.create(img, MiB);
    await expect(io.metadataSet(img, 'conf_no_such_option', '1')).rejects.toMatchObject({
      code: 'EINVAL',
      op: 'rbd_metadata_set',
      target: `${env.pool}/${img} key conf_no_such_option`,
    });
    expect(await io.metadataList(img)).toEqual({});
  });

  describe('what librbd does with metadata when it clones, flattens and renames', () => {
    it('a clone (format 1 and 2) starts with a copy of its parent image’s metadata at clone time', async () => {
      const [parent, c1, c2] = [name('par'), name('par-c1'), name('par-c2')];
      await io.create(parent, 4 * MiB);
      await io.metadataSet(parent, 'bmi.owner', 'alice');
      await io.snapCreate(parent, 'base');
      await io.metadataSet(parent, 'bmi.after-snap', 'yes'); // the image's, not the snapshot's
      await io.snapProtect(parent, 'base');
      await io.clone(parent, 'base', c1);
      await io.clone(parent, 'base', c2, { format: 2 });
      const inherited = { 'bmi.owner': 'alice', 'bmi.after-snap': 'yes' };
      expect(await io.metadataList(c1)).toEqual(inherited);
      expect(await io.metadataList(c2)).toEqual(inherited);

      // a copy, not a link: later changes on either side stay there
      await io.metadataSet(parent, 'bmi.owner', 'bob');
      await io.metadataSet(c1, 'bmi.disk', 'c1');
      expect(await io.metadataGet(c1, 'bmi.owner')).toBe('alice');
      expect(await io.metadataGet(parent, 'bmi.disk')).toBeNull();

      await io.flatten(c1); // flatten keeps the clone's own metadata
      expect(await io.metadataList(c1)).toEqual({ ...inherited, 'bmi.disk': 'c1' });
    });

    it('rename keeps the metadata', async () => {
      const [a, b] = [name('ren-a'), name('ren-b')];
      await io.create(a, MiB);
      await io.metadataSet(a, 'bmi.owner', 'alice');
      await io.rename(a, b);
      expect(await io.metadataList(b)).toEqual({ 'bmi.owner': 'alice' });
    });
  });
});
