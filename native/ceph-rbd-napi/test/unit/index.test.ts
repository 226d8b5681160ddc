import * as fs from 'node:fs';
import * as path from 'node:path';

import { ADDON_PATH, Cluster, connect, Features, Image, IoCtx, librbdVersion, RbdError } from '../../src-ts';
import { fakeBinding, nativeError } from './fake-binding';

const CONF = '/etc/ceph/ceph.conf';

async function open() {
  const fake = fakeBinding();
  const cluster = await connect({ confFile: CONF, clientId: 'bmi', nativeBinding: fake.binding });
  const ioctx = await cluster.openPool('bmi');
  return { fake, cluster, ioctx };
}

describe('connect', () => {
  it('passes conf, id, keyring and the default 30 s timeout to the binding', async () => {
    const fake = fakeBinding();
    const cluster = await connect({ confFile: CONF, clientId: 'bmi', keyring: '/k', nativeBinding: fake.binding });
    expect(cluster).toBeInstanceOf(Cluster);
    expect(fake.binding.connect).toHaveBeenCalledWith(CONF, 'bmi', '/k', 30);
  });

  it('passes an explicit timeout and no keyring', async () => {
    const fake = fakeBinding();
    await connect({ confFile: CONF, clientId: 'bmi', timeoutSeconds: 2.5, nativeBinding: fake.binding });
    expect(fake.binding.connect).toHaveBeenCalledWith(CONF, 'bmi', undefined, 2.5);
  });

  it.each([
    ['no options', undefined],
    ['empty confFile', { confFile: '', clientId: 'bmi' }],
    ['confFile not a string', { confFile: 42, clientId: 'bmi' }],
    ['clientId with client. prefix', { confFile: CONF, clientId: 'client.bmi' }],
    ['clientId with NUL', { confFile: CONF, clientId: 'b\0mi' }],
    ['empty keyring', { confFile: CONF, clientId: 'bmi', keyring: '' }],
    ['zero timeout', { confFile: CONF, clientId: 'bmi', timeoutSeconds: 0 }],
    ['NaN timeout', { confFile: CONF, clientId: 'bmi', timeoutSeconds: Number.NaN }],
    ['infinite timeout', { confFile: CONF, clientId: 'bmi', timeoutSeconds: Infinity }],
  ])('rejects %s with a TypeError before reaching the binding', async (_label, options) => {
    const fake = fakeBinding();
    const opts = options === undefined ? undefined : { ...options, nativeBinding: fake.binding };
    await expect(connect(opts as never)).rejects.toThrow(TypeError);
    expect(fake.binding.connect).not.toHaveBeenCalled();
  });

  it('wraps a native rejection into RbdError with code, errno, op, target and cause', async () => {
    const fake = fakeBinding();
    const raw = nativeError('rados_connect', 13, 'EACCES', 'client.nobody');
    fake.binding.connect.mockRejectedValueOnce(raw);
    const error = await connect({ confFile: CONF, clientId: 'nobody', nativeBinding: fake.binding }).catch((e) => e);
    expect(error).toBeInstanceOf(RbdError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'RbdError',
      code: 'EACCES',
      errno: 13,
      op: 'rados_connect',
      target: 'client.nobody',
      message: raw.message,
    });
    expect(error.cause).toBe(raw);
  });

  it('reports an addon that cannot be loaded with a plain Error naming the file', async () => {
    const missing = path.join(__dirname, 'no-such-addon.node');
    const error = await connect({ confFile: CONF, clientId: 'bmi', nativeBinding: missing }).catch((e) => e);
    expect(error).not.toBeInstanceOf(RbdError);
    expect(error.message).toContain('cannot load the native addon');
    expect(error.message).toContain(missing);
  });
});

describe('RbdError.from', () => {
  it('derives code from errno, makes errno positive and falls back to the method name', () => {
    const error = RbdError.from(Object.assign(new Error(''), { errno: -16 }), 'close') as RbdError;
    expect(error).toBeInstanceOf(RbdError);
    expect(error).toMatchObject({ code: 'EBUSY', errno: 16, op: 'close' });
    expect(error.message).toBe('close failed: errno 16 (EBUSY)');
  });

  it('keeps errors without errno (TypeError backstop, bugs) as they are', () => {
    const typeError = new TypeError('image must be a string');
    expect(RbdError.from(typeError, 'remove')).toBe(typeError);
    const plain = new Error('boom');
    expect(RbdError.from(plain, 'remove')).toBe(plain);
    expect(RbdError.from('text', 'remove')).toBe('text');
  });

  it('marks unknown errno values EUNKNOWN', () => {
    const error = RbdError.from({ errno: 4242, op: 'rbd_x' }, 'x') as RbdError;
    expect(error.code).toBe('EUNKNOWN');
  });
});

describe('IoCtx', () => {
  it('exposes the pool name and passes results through', async () => {
    const { ioctx } = await open();
    expect(ioctx).toBeInstanceOf(IoCtx);
    expect(ioctx.pool).toBe('bmi');
    await expect(ioctx.listImages()).resolves.toEqual(['golden', 'disk1']);
    await expect(ioctx.stat('golden')).resolves.toMatchObject({ order: 22, numObjects: 256 });
    await expect(ioctx.parentInfo('golden')).resolves.toBeNull();
    await expect(ioctx.snapIsProtected('golden', 'base')).resolves.toBe(true);
  });

  it('creates with the default features (61) and no order unless given', async () => {
    const { fake, ioctx } = await open();
    await ioctx.create('a', 1024);
    expect(fake.ioctx.create).toHaveBeenLastCalledWith('a', 1024, 61, undefined);
    await ioctx.create('b', 2048, { features: Features.LAYERING, order: 20 });
    expect(fake.ioctx.create).toHaveBeenLastCalledWith('b', 2048, 1, 20);
  });

  it('clones with format 1 by default and format 2 when asked', async () => {
    const { fake, ioctx } = await open();
    await ioctx.clone('golden', 'base', 'c1');
    expect(fake.ioctx.clone).toHaveBeenLastCalledWith('golden', 'base', 'c1', 1, undefined);
    await ioctx.clone('golden', 'base', 'c2', { format: 2, features: 1 });
    expect(fake.ioctx.clone).toHaveBeenLastCalledWith('golden', 'base', 'c2', 2, 1);
  });

  it('opens images read-write at the head by default', async () => {
    const { fake, ioctx } = await open();
    const image = await ioctx.openImage('disk1');
    expect(image).toBeInstanceOf(Image);
    expect(image.name).toBe('disk1');
    expect(fake.ioctx.openImage).toHaveBeenLastCalledWith('disk1', false, undefined);
    await ioctx.openImage('disk1', { readOnly: true, snapshot: 'base' });
    expect(fake.ioctx.openImage).toHaveBeenLastCalledWith('disk1', true, 'base');
  });

  type Call = [string, (io: IoCtx) => Promise<unknown>, keyof ReturnType<typeof fakeBinding>['ioctx']];
  const invalid: Call[] = [
    ['create: empty name', (io) => io.create('', 1), 'create'],
    ['create: negative size', (io) => io.create('a', -1), 'create'],
    ['create: fractional size', (io) => io.create('a', 1.5), 'create'],
    ['create: NaN size', (io) => io.create('a', Number.NaN), 'create'],
    ['create: unsafe size', (io) => io.create('a', 2 ** 53), 'create'],
    ['create: size as string', (io) => io.create('a', '1' as never), 'create'],
    ['create: order 11', (io) => io.create('a', 1, { order: 11 }), 'create'],
    ['create: negative features', (io) => io.create('a', 1, { features: -1 }), 'create'],
    ['create: options not an object', (io) => io.create('a', 1, 'x' as never), 'create'],
    ['remove: empty name', (io) => io.remove(''), 'remove'],
    ['remove: name with NUL', (io) => io.remove('a\0b'), 'remove'],
    ['rename: empty target', (io) => io.rename('a', ''), 'rename'],
    ['stat: number', (io) => io.stat(5 as never), 'stat'],
    ['snapCreate: empty snap', (io) => io.snapCreate('a', ''), 'snapCreate'],
    ['snapRemove: missing snap', (io) => (io.snapRemove as (a: string) => Promise<void>)('a'), 'snapRemove'],
    ['snapProtect: null image', (io) => io.snapProtect(null as never, 's'), 'snapProtect'],
    ['snapUnprotect: empty image', (io) => io.snapUnprotect('', 's'), 'snapUnprotect'],
    ['snapIsProtected: empty snap', (io) => io.snapIsProtected('a', ''), 'snapIsProtected'],
    ['snapList: empty image', (io) => io.snapList(''), 'snapList'],
    ['clone: format 3', (io) => io.clone('a', 's', 'c', { format: 3 as never }), 'clone'],
    ['clone: empty child', (io) => io.clone('a', 's', ''), 'clone'],
    ['clone: fractional features', (io) => io.clone('a', 's', 'c', { features: 0.5 }), 'clone'],
    ['flatten: progress not a function', (io) => io.flatten('a', 'cb' as never), 'flatten'],
    ['parentInfo: empty image', (io) => io.parentInfo(''), 'parentInfo'],
    ['children: empty snap', (io) => io.children('a', ''), 'children'],
    ['metadataGet: empty key', (io) => io.metadataGet('a', ''), 'metadataGet'],
    ['metadataGet: empty image', (io) => io.metadataGet('', 'k'), 'metadataGet'],
    ['metadataSet: key with NUL', (io) => io.metadataSet('a', 'k\0', 'v'), 'metadataSet'],
    ['metadataSet: value with NUL', (io) => io.metadataSet('a', 'k', 'v\0w'), 'metadataSet'],
    ['metadataSetMany: empty key', (io) => io.metadataSetMany('a', { '': 'v' }), 'metadataSet'],
    ['metadataSetMany: value not a string', (io) => io.metadataSetMany('a', { k: 1 as never }), 'metadataSet'],
    ['metadataSet: value not a string', (io) => io.metadataSet('a', 'k', 1 as never), 'metadataSet'],
    [
      'metadataSet: missing value',
      (io) => (io.metadataSet as (a: string, k: string) => Promise<void>)('a', 'k'),
      'metadataSet',
    ],
    ['metadataRemove: empty key', (io) => io.metadataRemove('a', ''), 'metadataRemove'],
    ['metadataList: empty image', (io) => io.metadataList(''), 'metadataList'],
    ['openImage: readOnly not boolean', (io) => io.openImage('a', { readOnly: 'yes' as never }), 'openImage'],
    ['openImage: empty snapshot', (io) => io.openImage('a', { snapshot: '' }), 'openImage'],
  ];

  it.each(invalid)('%s rejects with TypeError and never calls the binding', async (_label, run, method) => {
    const { fake, ioctx } = await open();
    const result = run(ioctx);
    expect(result).toBeInstanceOf(Promise); // never a synchronous throw
    await expect(result).rejects.toThrow(TypeError);
    expect(fake.ioctx[method]).not.toHaveBeenCalled();
  });

  it('wraps native rejections of pool calls with the op the native layer named', async () => {
    const { fake, ioctx } = await open();
    fake.ioctx.remove.mockRejectedValueOnce(nativeError('rbd_remove', 39, 'ENOTEMPTY', 'bmi/golden'));
    await expect(ioctx.remove('golden')).rejects.toMatchObject({
      constructor: RbdError,
      code: 'ENOTEMPTY',
      errno: 39,
      op: 'rbd_remove',
      target: 'bmi/golden',
    });
  });

  it('passes metadata calls through; an empty value is a value; a missing key is null', async () => {
    const { fake, ioctx } = await open();
    await expect(ioctx.metadataGet('disk1', 'bmi.owner')).resolves.toBe('alice');
    expect(fake.ioctx.metadataGet).toHaveBeenLastCalledWith('disk1', 'bmi.owner');
    fake.ioctx.metadataGet.mockResolvedValueOnce(null);
    await expect(ioctx.metadataGet('disk1', 'nokey')).resolves.toBeNull();
    await ioctx.metadataSet('disk1', 'bmi.note', '');
    expect(fake.ioctx.metadataSet).toHaveBeenLastCalledWith('disk1', ['bmi.note'], ['']);
    await ioctx.metadataSetMany('disk1', { 'bmi.uid': 'u1', 'bmi.op': '' });
    expect(fake.ioctx.metadataSet).toHaveBeenLastCalledWith('disk1', ['bmi.uid', 'bmi.op'], ['u1', '']);
    await ioctx.metadataRemove('disk1', 'bmi.note');
    expect(fake.ioctx.metadataRemove).toHaveBeenLastCalledWith('disk1', 'bmi.note');
  });

  it('lists metadata as a record, taking "__proto__" and "constructor" as plain keys', async () => {
    const { fake, ioctx } = await open();
    fake.ioctx.metadataList.mockResolvedValueOnce([
      ['__proto__', 'x'],
      ['bmi.owner', 'alice'],
      ['constructor', 'y'],
    ]);
    const listed = await ioctx.metadataList('disk1');
    expect(Object.getPrototypeOf(listed)).toBe(Object.prototype);
    expect(Object.entries(listed)).toEqual([
      ['__proto__', 'x'],
      ['bmi.owner', 'alice'],
      ['constructor', 'y'],
    ]);
    fake.ioctx.metadataList.mockResolvedValueOnce([]);
    await expect(ioctx.metadataList('disk1')).resolves.toEqual({});
  });

  it('wraps a native rejection of a metadata call (a missing image fails in the open)', async () => {
    const { fake, ioctx } = await open();
    fake.ioctx.metadataGet.mockRejectedValueOnce(nativeError('rbd_open_read_only', 2, 'ENOENT', 'bmi/gone'));
    await expect(ioctx.metadataGet('gone', 'k')).rejects.toMatchObject({
      constructor: RbdError,
      code: 'ENOENT',
      op: 'rbd_open_read_only',
      target: 'bmi/gone',
    });
    fake.ioctx.metadataSet.mockRejectedValueOnce(nativeError('rbd_metadata_set', 22, 'EINVAL', 'bmi/disk1 key conf_x'));
    await expect(ioctx.metadataSet('disk1', 'conf_x', 'v')).rejects.toMatchObject({
      constructor: RbdError,
      code: 'EINVAL',
      op: 'rbd_metadata_set',
    });
  });

  it('delivers flatten progress in order and passes no callback when none is given', async () => {
    const { fake, ioctx } = await open();
    const seen: [number, number][] = [];
    await ioctx.flatten('disk1', (done, total) => seen.push([done, total]));
    expect(seen).toEqual([
      [1, 3],
      [3, 3],
    ]);
    await ioctx.flatten('disk1');
    expect(fake.ioctx.flatten).toHaveBeenLastCalledWith('disk1', undefined);
  });

  it('rejects flatten with the error a progress callback threw, after the flatten finished', async () => {
    const { fake, ioctx } = await open();
    let finished = false;
    fake.ioctx.flatten.mockImplementationOnce(async (_image, onProgress) => {
      onProgress?.(1, 3); // throws inside the user's callback; must not escape here
      onProgress?.(2, 3);
      finished = true;
    });
    const thrown = new Error('progress sink broke');
    const calls: number[] = [];
    const result = ioctx.flatten('disk1', (done) => {
      calls.push(done);
      throw thrown;
    });
    await expect(result).rejects.toBe(thrown);
    expect(finished).toBe(true);
    expect(calls).toEqual([1]); // reporting stopped after the throw
  });
});

describe('close()', () => {
  it('is shared while in flight and idempotent once done', async () => {
    const { fake, ioctx } = await open();
    let release!: () => void;
    fake.ioctx.close.mockImplementationOnce(() => new Promise<undefined>((r) => (release = () => r(undefined))));
    const first = ioctx.close();
    const second = ioctx.close();
    expect(second).toBe(first);
    expect(ioctx.closed).toBe(false);
    release();
    await first;
    expect(ioctx.closed).toBe(true);
    await ioctx.close();
    expect(fake.ioctx.close).toHaveBeenCalledTimes(1);
  });

  it('after a refused close (EBUSY) the handle stays open and a later close retries', async () => {
    const { fake, cluster } = await open();
    fake.cluster.close.mockRejectedValueOnce(nativeError('close', 16, 'EBUSY'));
    await expect(cluster.close()).rejects.toMatchObject({ constructor: RbdError, code: 'EBUSY', op: 'close' });
    expect(cluster.closed).toBe(false);
    await expect(cluster.openPool('bmi')).resolves.toBeInstanceOf(IoCtx);
    await cluster.close();
    expect(cluster.closed).toBe(true);
    expect(fake.cluster.close).toHaveBeenCalledTimes(2);
  });

  it('passes the native EBADF of a closed handle through as RbdError', async () => {
    const { fake, ioctx } = await open();
    fake.ioctx.listImages.mockRejectedValueOnce(nativeError('listImages', 9, 'EBADF'));
    await expect(ioctx.listImages()).rejects.toMatchObject({ constructor: RbdError, code: 'EBADF', op: 'listImages' });
  });
});

describe('Image', () => {
  it('validates offsets, lengths and data before the binding', async () => {
    const { fake, ioctx } = await open();
    const image = await ioctx.openImage('disk1');
    await expect(image.read(-1, 1)).rejects.toThrow(TypeError);
    await expect(image.read(0, 2 ** 31)).rejects.toThrow(TypeError);
    await expect(image.write(0, 'text' as never)).rejects.toThrow(TypeError);
    await expect(image.write(0.5, Buffer.alloc(1))).rejects.toThrow(TypeError);
    expect(fake.image.read).not.toHaveBeenCalled();
    expect(fake.image.write).not.toHaveBeenCalled();
  });

  it('hands a Uint8Array to the binding as a Buffer over the same bytes', async () => {
    const { fake, ioctx } = await open();
    const image = await ioctx.openImage('disk1');
    const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2);
    await expect(image.write(512, bytes)).resolves.toBe(4);
    const passed = fake.image.write.mock.calls[0][1];
    expect(Buffer.isBuffer(passed)).toBe(true);
    expect([...passed]).toEqual([2, 3, 4, 5]);
    await expect(image.read(0, 3)).resolves.toEqual(Buffer.from([7, 7, 7]));
  });
});

describe('package shape', () => {
  it('public classes cannot be constructed by callers', () => {
    const fake = fakeBinding();
    expect(() => new (Cluster as unknown as new (...a: unknown[]) => unknown)(fake.cluster, Symbol('x'))).toThrow(
      TypeError,
    );
    expect(() => new (IoCtx as unknown as new (...a: unknown[]) => unknown)(fake.ioctx)).toThrow(TypeError);
  });

  it('Features.DEFAULT is layering|exclusive-lock|object-map|fast-diff|deep-flatten', () => {
    expect(Features.DEFAULT).toBe(
      Features.LAYERING | Features.EXCLUSIVE_LOCK | Features.OBJECT_MAP | Features.FAST_DIFF | Features.DEEP_FLATTEN,
    );
  });

  it('reports the librbd version of an injected binding', () => {
    expect(librbdVersion(fakeBinding().binding)).toBe('1.16.0');
  });

  it('loads the addon from build/Release, and only binding.ts requires it', () => {
    expect(ADDON_PATH).toBe(path.resolve(__dirname, '../../build/Release/ceph_rbd_napi.node'));
    const dir = path.join(__dirname, '../../src-ts');
    const requiring = fs.readdirSync(dir).filter((f) => /\brequire\(/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(requiring).toEqual(['binding.ts']);
  });
});
