// A recording fake of the compiled addon for the JS-layer unit tests: every
// method is a jest.fn resolving with plausible values; tests override them.
import type { NativeBinding, NativeCluster, NativeImage, NativeIoCtx } from '../../src-ts';

/** What the native layer rejects with (see src/errors.cc). */
export function nativeError(op: string, errno: number, code: string, target?: string): Error {
  const message = `${op} failed: some text (${code})${target ? ` [${target}]` : ''}`;
  return Object.assign(new Error(message), { op, errno, code, ...(target ? { target } : {}) });
}

export function fakeBinding() {
  const image = {
    name: 'disk1',
    size: jest.fn(async () => 4096),
    read: jest.fn(async (_offset: number, length: number) => Buffer.alloc(length, 7)),
    write: jest.fn(async (_offset: number, data: Buffer) => data.length),
    flush: jest.fn(async () => undefined),
    close: jest.fn(async () => undefined),
  } satisfies NativeImage;
  const ioctx = {
    pool: 'bmi',
    listImages: jest.fn(async () => ['golden', 'disk1']),
    create: jest.fn(async () => undefined),
    remove: jest.fn(async () => undefined),
    rename: jest.fn(async () => undefined),
    stat: jest.fn(async () => ({ size: 1 << 30, objectSize: 1 << 22, numObjects: 256, order: 22 })),
    snapCreate: jest.fn(async () => undefined),
    snapRemove: jest.fn(async () => undefined),
    snapProtect: jest.fn(async () => undefined),
    snapUnprotect: jest.fn(async () => undefined),
    snapIsProtected: jest.fn(async () => true),
    snapList: jest.fn(async () => [{ id: 4, name: 'base', size: 1 << 30, namespace: 'user' as const }]),
    clone: jest.fn(async () => undefined),
    flatten: jest.fn(async (_image: string, onProgress?: (done: number, total: number) => void) => {
      onProgress?.(1, 3);
      onProgress?.(3, 3);
    }),
    parentInfo: jest.fn(async () => null),
    children: jest.fn(async () => [{ pool: 'bmi', image: 'disk1', trash: false }]),
    metadataGet: jest.fn(async (): Promise<string | null> => 'alice'),
    metadataSet: jest.fn(async () => undefined),
    metadataRemove: jest.fn(async () => undefined),
    metadataList: jest.fn(async (): Promise<[string, string][]> => [['bmi.owner', 'alice']]),
    openImage: jest.fn(async () => image),
    close: jest.fn(async () => undefined),
  } satisfies NativeIoCtx;
  const cluster = {
    openPool: jest.fn(async () => ioctx),
    addresses: jest.fn(async () => '[v2:127.0.0.1:0/1,v1:127.0.0.1:0/1]'),
    blocklist: jest.fn(async () => undefined),
    close: jest.fn(async () => undefined),
  } satisfies NativeCluster;
  const binding = {
    connect: jest.fn(async () => cluster),
    librbdVersion: '1.16.0',
  } satisfies NativeBinding;
  return { binding, cluster, ioctx, image };
}
