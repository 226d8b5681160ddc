import { CephRbdStorage, RbdBinding, RbdCluster, RbdIoCtx, translate } from './ceph-rbd.storage';
import {
  RbdImageBusyError,
  RbdImageExistsError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
  RbdInvalidOperationError,
  RbdSnapshotBusyError,
  StorageFailedError,
  StorageUnavailableError,
} from './storage.errors';

/** An error shaped like ceph-rbd-napi's RbdError. */
function rbdError(code: string, op = 'rbd_call'): Error {
  return Object.assign(new Error(`${op} failed (${code})`), { code, errno: 1, op });
}

const OPTIONS = { confFile: '/etc/ceph/ceph.conf', clientId: 'bmi', keyring: '', pool: 'bmi', timeoutSeconds: 5 };

function fakeBinding(io: Partial<RbdIoCtx>, cluster: Partial<RbdCluster> = {}): RbdBinding {
  const ioCtx = { close: jest.fn(async () => undefined), ...io } as unknown as RbdIoCtx;
  const c = { openPool: jest.fn(async () => ioCtx), close: jest.fn(async () => undefined), ...cluster } as RbdCluster;
  return { connect: jest.fn(async () => c) };
}

describe('translate: librbd errno in context to BMI storage errors', () => {
  it.each([
    ['ENOENT', 'stat', 'img', undefined, RbdImageNotFoundError, 'img Not Found'],
    ['ENOENT', 'snap remove', 'img', 'snap', RbdImageNotFoundError, 'img@snap Not Found'],
    ['EEXIST', 'create', 'img', undefined, RbdImageExistsError, 'img Already Exists'],
    ['EEXIST', 'snap create', 'img', 'snap', RbdImageExistsError, 'snap Already Exists'],
    ['ENOTEMPTY', 'remove', 'img', undefined, RbdImageHasSnapshotsError, 'img has Snapshots'],
    ['EBUSY', 'snap remove', 'img', 'snap', RbdSnapshotBusyError, 'Snapshot snap is protected from removal'],
    ['EBUSY', 'snap unprotect', 'img', 'snap', RbdImageBusyError, 'img is Busy (Could have Clones)'],
    ['EBUSY', 'remove', 'img', undefined, RbdImageBusyError, 'img is Busy (Could have Clones)'],
    ['EBUSY', 'snap protect', 'img', 'snap', RbdInvalidOperationError, 'Snapshot img@snap is already protected'],
    ['EINVAL', 'snap unprotect', 'img', 'snap', RbdInvalidOperationError, 'Snapshot img@snap is not protected'],
    ['EINVAL', 'clone', 'img', 'snap', RbdInvalidOperationError, 'Snapshot img@snap must be protected before cloning'],
    ['ENOENT', 'metadata set', 'img', undefined, RbdImageNotFoundError, 'img Not Found'],
    [
      'EINVAL',
      'metadata set',
      'img',
      undefined,
      RbdInvalidOperationError,
      'Ceph refused metadata set of img: invalid argument',
    ],
    ['ETIMEDOUT', 'stat', 'img', undefined, StorageUnavailableError, 'Ceph did not answer stat of img (ETIMEDOUT)'],
    ['EIO', 'stat', 'img', undefined, StorageFailedError, 'Ceph failed stat of img: rbd_call failed (EIO)'],
  ] as const)('%s on %s', (code, op, image, snap, cls, message) => {
    const e = translate(rbdError(code), op, image, snap);
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toBe(message);
  });

  it('names the child when a clone target exists', () => {
    expect(translate(rbdError('EEXIST'), 'clone', 'golden', 'base', 'child').message).toBe('child Already Exists');
  });

  it('keeps an unknown failure as a 500 with its cause', () => {
    const cause = new TypeError('boom');
    const e = translate(cause, 'list', 'bmi');
    expect(e).toBeInstanceOf(StorageFailedError);
    expect((e as Error & { cause?: unknown }).cause).toBe(cause);
  });
});

describe('CephRbdStorage', () => {
  it('connects once with the configured client and timeouts, and opens the pool', async () => {
    const binding = fakeBinding({ listImages: async () => ['b', 'a'] });
    const s = await CephRbdStorage.connect(OPTIONS, binding);
    expect(binding.connect).toHaveBeenCalledWith({
      confFile: '/etc/ceph/ceph.conf',
      clientId: 'bmi',
      keyring: undefined,
      timeoutSeconds: 5,
    });
    expect(await s.listImages()).toEqual(['a', 'b']);
  });

  it('reports a cluster it cannot reach as 503, naming the client and the conf file', async () => {
    const binding: RbdBinding = { connect: async () => Promise.reject(rbdError('ETIMEDOUT', 'rados_connect')) };
    const e = await CephRbdStorage.connect(OPTIONS, binding).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageUnavailableError);
    expect((e as Error).message).toMatch(/client\.bmi with \/etc\/ceph\/ceph\.conf/);
  });

  it('closes the connection when the pool cannot be opened', async () => {
    const close = jest.fn(async () => undefined);
    const binding = fakeBinding({}, { openPool: async () => Promise.reject(rbdError('ENOENT')), close });
    await expect(CephRbdStorage.connect(OPTIONS, binding)).rejects.toThrow(/Cannot open Ceph pool bmi/);
    expect(close).toHaveBeenCalled();
  });

  it('clones with format 1 and layering only, as the original did', async () => {
    const clone = jest.fn(async () => undefined);
    const s = await CephRbdStorage.connect(OPTIONS, fakeBinding({ clone }));
    await s.clone('golden', 'base', 'child');
    expect(clone).toHaveBeenCalledWith('golden', 'base', 'child', { format: 1, features: 1 });
  });

  it('treats flattening an image that has no parent as done', async () => {
    const s = await CephRbdStorage.connect(
      OPTIONS,
      fakeBinding({ flatten: async () => Promise.reject(rbdError('EINVAL')), parentInfo: async () => null }),
    );
    await expect(s.flatten('img')).resolves.toBeUndefined();
  });

  it('still reports EINVAL from flatten when the image has a parent', async () => {
    const s = await CephRbdStorage.connect(
      OPTIONS,
      fakeBinding({
        flatten: async () => Promise.reject(rbdError('EINVAL')),
        parentInfo: async () => ({ pool: 'bmi', image: 'g', snapshot: 's' }),
      }),
    );
    await expect(s.flatten('img')).rejects.toBeInstanceOf(RbdInvalidOperationError);
  });

  it('answers imageExists from stat, and lists snapshots with their protection', async () => {
    const s = await CephRbdStorage.connect(
      OPTIONS,
      fakeBinding({
        stat: async (image: string) => (image === 'here' ? { size: 1 } : Promise.reject(rbdError('ENOENT'))),
        snapList: async () => [{ name: 'a' }, { name: 'b' }],
        snapIsProtected: async (_image: string, snap: string) => snap === 'b',
      }),
    );
    expect(await s.imageExists('here')).toBe(true);
    expect(await s.imageExists('gone')).toBe(false);
    expect(await s.listSnapshots('here')).toEqual([
      { name: 'a', protected: false },
      { name: 'b', protected: true },
    ]);
  });

  it('sets all the metadata with one call (one open of the image), after checking every key', async () => {
    const metadataSetMany = jest.fn(async () => undefined);
    const s = await CephRbdStorage.connect(OPTIONS, fakeBinding({ metadataSetMany }));
    await s.setMetadata('img', { 'bmi.owner': 'alice', 'bmi.note': '' });
    expect(metadataSetMany.mock.calls).toEqual([['img', { 'bmi.owner': 'alice', 'bmi.note': '' }]]);
    metadataSetMany.mockClear();
    await expect(s.setMetadata('img', { 'bmi.owner': 'x', conf_rbd_cache: 'false' })).rejects.toBeInstanceOf(
      RbdInvalidOperationError,
    );
    await expect(s.removeMetadata('img', 'conf_rbd_cache')).rejects.toBeInstanceOf(RbdInvalidOperationError);
    expect(metadataSetMany).not.toHaveBeenCalled();
  });

  it('nothing to set still opens the image: a missing one is RbdImageNotFoundError', async () => {
    const metadataSetMany = jest.fn(async () => Promise.reject(rbdError('ENOENT', 'rbd_open')));
    const s = await CephRbdStorage.connect(OPTIONS, fakeBinding({ metadataSetMany }));
    await expect(s.setMetadata('gone', {})).rejects.toBeInstanceOf(RbdImageNotFoundError);
    expect(metadataSetMany).toHaveBeenCalledWith('gone', {});
  });

  it('lists and removes metadata through the binding, translating a missing image', async () => {
    const metadataRemove = jest.fn(async () => undefined);
    const s = await CephRbdStorage.connect(
      OPTIONS,
      fakeBinding({
        metadataList: async (image: string) =>
          image === 'img' ? { 'bmi.owner': 'alice' } : Promise.reject(rbdError('ENOENT', 'rbd_open_read_only')),
        metadataRemove,
      }),
    );
    expect(await s.getMetadata('img')).toEqual({ 'bmi.owner': 'alice' });
    await expect(s.getMetadata('gone')).rejects.toThrow('gone Not Found');
    await s.removeMetadata('img', 'bmi.owner');
    expect(metadataRemove).toHaveBeenCalledWith('img', 'bmi.owner');
  });

  it('closes the pool and then the cluster', async () => {
    const order: string[] = [];
    const binding = fakeBinding(
      { close: async () => void order.push('pool') },
      { close: async () => void order.push('cluster') },
    );
    const s = await CephRbdStorage.connect(OPTIONS, binding);
    await s.close();
    expect(order).toEqual(['pool', 'cluster']);
  });
});

describe('CephRbdStorage in front of a cluster that hangs or is down', () => {
  it('keeps at most maxCalls librbd calls in flight; the others wait', async () => {
    let inFlight = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const listImages = jest.fn(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((r) => releases.push(r));
      inFlight--;
      return [];
    });
    const storage = await CephRbdStorage.connect({ ...OPTIONS, maxCalls: 3 }, fakeBinding({ listImages }));
    const calls = Array.from({ length: 20 }, () => storage.listImages());
    await new Promise((r) => setImmediate(r));
    expect(listImages).toHaveBeenCalledTimes(3);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(calls);
    expect(listImages).toHaveBeenCalledTimes(20);
    expect(most).toBe(3);
  });

  it('once Ceph did not answer, calls fail at once with a 503 naming Ceph instead of hanging in turn', async () => {
    const stat = jest.fn(async () => Promise.reject(rbdError('ETIMEDOUT', 'rbd_open')));
    const storage = await CephRbdStorage.connect({ ...OPTIONS, downSeconds: 10 }, fakeBinding({ stat }));
    await expect(storage.imageSize('img')).rejects.toThrow('Ceph did not answer stat of img (ETIMEDOUT)');
    const err = (await storage.imageSize('other').catch((e: unknown) => e)) as Error & { status: number };
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err.status).toBe(503);
    expect(err.message).toMatch(
      /^Ceph is unavailable \(Ceph did not answer stat of img \(ETIMEDOUT\)\); BMI tries it again in (10|9) s$/,
    );
    expect(stat).toHaveBeenCalledTimes(1);
  });

  it('a refusal (no such image) is not an outage', async () => {
    const stat = jest.fn(async () => Promise.reject(rbdError('ENOENT', 'rbd_open')));
    const storage = await CephRbdStorage.connect(OPTIONS, fakeBinding({ stat }));
    await expect(storage.imageSize('a')).rejects.toThrow(RbdImageNotFoundError);
    await expect(storage.imageSize('b')).rejects.toThrow(RbdImageNotFoundError);
    expect(stat).toHaveBeenCalledTimes(2);
  });
});
