// ceph-rbd-napi: a typed Promise API over librbd/librados.
//
// Every call runs in its own worker on the libuv thread pool (see README:
// UV_THREADPOOL_SIZE). Failures reject with RbdError; bad arguments reject
// with TypeError. No method throws synchronously.
import { loadBinding, type NativeBinding, type NativeCluster, type NativeImage, type NativeIoCtx } from './binding';
import { RbdError } from './errors';
import type {
  ChildInfo,
  CloneOptions,
  ConnectOptions,
  CreateOptions,
  ImageStat,
  OpenImageOptions,
  ParentInfo,
  ProgressCallback,
  SnapInfo,
} from './types';
import {
  checkBuffer,
  checkOptionalFunction,
  checkOptionalString,
  checkOptionalUint,
  checkOptions,
  checkPositive,
  checkString,
  checkStringValue,
  checkUint,
} from './validate';

export { RbdError } from './errors';
export { ADDON_PATH } from './binding';
export type { NativeBinding, NativeCluster, NativeIoCtx, NativeImage } from './binding';
export type * from './types';

/** RBD image feature bits (rbd/features.h). */
export const Features = Object.freeze({
  LAYERING: 1,
  STRIPINGV2: 2,
  EXCLUSIVE_LOCK: 4,
  OBJECT_MAP: 8,
  FAST_DIFF: 16,
  DEEP_FLATTEN: 32,
  JOURNALING: 64,
  /** layering | exclusive-lock | object-map | fast-diff | deep-flatten (61), librbd's default. */
  DEFAULT: 61,
});

export const DEFAULT_TIMEOUT_SECONDS = 30;

// Public classes are built only by this module: the constructors demand a
// token nobody else holds.
const INTERNAL: unique symbol = Symbol('ceph-rbd-napi internal');

function checkInternal(token: unknown, what: string): void {
  if (token !== INTERNAL) throw new TypeError(`${what} objects are created by ceph-rbd-napi, not with new`);
}

async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw RbdError.from(error, op);
  }
}

/**
 * close() for a handle. A close that is in flight or done is shared by later
 * calls (so close() is idempotent); a refused close (EBUSY: work pending or
 * children open) leaves the handle open and usable.
 */
class CloseOnce {
  #promise: Promise<void> | undefined;
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  run(close: () => Promise<void>): Promise<void> {
    this.#promise ??= call('close', close).then(
      () => {
        this.#closed = true;
      },
      (error: unknown) => {
        this.#promise = undefined;
        throw error;
      },
    );
    return this.#promise;
  }
}

/**
 * Connects to a cluster as client.<clientId>. Rejects with RbdError
 * (op 'rados_conf_read_file', 'rados_connect', …) on a bad conf, unknown
 * user, wrong key or unreachable monitors (ETIMEDOUT after timeoutSeconds).
 */
export async function connect(options: ConnectOptions): Promise<Cluster> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const confFile = checkString('confFile', options.confFile);
  const clientId = checkString('clientId', options.clientId);
  if (clientId.startsWith('client.')) {
    throw new TypeError('clientId must be given without the "client." prefix (e.g. "bmi")');
  }
  const keyring = checkOptionalString('keyring', options.keyring);
  const timeout =
    options.timeoutSeconds === undefined
      ? DEFAULT_TIMEOUT_SECONDS
      : checkPositive('timeoutSeconds', options.timeoutSeconds);
  const binding = loadBinding(options.nativeBinding);
  const native = await call('connect', () => binding.connect(confFile, clientId, keyring, timeout));
  return new Cluster(native, INTERNAL);
}

/** The librbd version the addon runs against, e.g. "1.16.0". */
export function librbdVersion(nativeBinding?: string | NativeBinding): string {
  return loadBinding(nativeBinding).librbdVersion ?? 'unknown';
}

/**
 * A librados connection. close() is refused with EBUSY while an operation is
 * pending or an IoCtx opened from it is still open (close those first).
 */
export class Cluster {
  readonly #native: NativeCluster;
  readonly #close = new CloseOnce();

  constructor(native: NativeCluster, token: typeof INTERNAL) {
    checkInternal(token, 'Cluster');
    this.#native = native;
  }

  get closed(): boolean {
    return this.#close.closed;
  }

  async openPool(pool: string): Promise<IoCtx> {
    const name = checkString('pool', pool);
    const native = await call('openPool', () => this.#native.openPool(name));
    return new IoCtx(native, INTERNAL);
  }

  /**
   * The addresses of this session as the OSDs know it (rados_getaddrs), e.g.
   * `[v2:10.0.0.5:0/2345678901,v1:10.0.0.5:0/2345678901]`: what blocklist()
   * takes to fence this session from another one.
   */
  async addresses(): Promise<string> {
    return call('addresses', () => this.#native.addresses());
  }

  /**
   * Fences another session (rados_blocklist_add): the OSDs refuse its I/O and
   * drop its watches, so that images it had open can be removed at once
   * instead of after the watch timeout. `expireSeconds` 0 takes the cluster's
   * default. Needs the `osd blocklist` mon command (`profile rbd` has it).
   */
  async blocklist(address: string, expireSeconds = 0): Promise<void> {
    const addr = checkString('address', address);
    const expire = checkUint('expireSeconds', expireSeconds);
    await call('blocklist', () => this.#native.blocklist(addr, expire));
  }

  close(): Promise<void> {
    return this.#close.run(() => this.#native.close());
  }
}

/**
 * An open pool. All image names are in this pool (clone's parent and child
 * too). close() is refused with EBUSY while an operation is pending or an
 * Image opened from it is still open.
 */
export class IoCtx {
  readonly pool: string;
  readonly #native: NativeIoCtx;
  readonly #close = new CloseOnce();

  constructor(native: NativeIoCtx, token: typeof INTERNAL) {
    checkInternal(token, 'IoCtx');
    this.#native = native;
    this.pool = native.pool;
  }

  get closed(): boolean {
    return this.#close.closed;
  }

  async listImages(): Promise<string[]> {
    return call('listImages', () => this.#native.listImages());
  }

  async create(image: string, sizeBytes: number, options?: CreateOptions): Promise<void> {
    const name = checkString('image', image);
    const size = checkUint('sizeBytes', sizeBytes);
    const opts = checkOptions<CreateOptions>('options', options);
    const features = checkOptionalUint('features', opts.features) ?? Features.DEFAULT;
    const order = checkOptionalUint('order', opts.order);
    if (order !== undefined && (order < 12 || order > 25)) throw new TypeError('order must be between 12 and 25');
    return call('create', () => this.#native.create(name, size, features, order));
  }

  async remove(image: string): Promise<void> {
    const name = checkString('image', image);
    return call('remove', () => this.#native.remove(name));
  }

  async rename(from: string, to: string): Promise<void> {
    const src = checkString('from', from);
    const dst = checkString('to', to);
    return call('rename', () => this.#native.rename(src, dst));
  }

  async stat(image: string): Promise<ImageStat> {
    const name = checkString('image', image);
    return call('stat', () => this.#native.stat(name));
  }

  async snapCreate(image: string, snap: string): Promise<void> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('snapCreate', () => this.#native.snapCreate(name, snapName));
  }

  async snapRemove(image: string, snap: string): Promise<void> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('snapRemove', () => this.#native.snapRemove(name, snapName));
  }

  async snapProtect(image: string, snap: string): Promise<void> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('snapProtect', () => this.#native.snapProtect(name, snapName));
  }

  async snapUnprotect(image: string, snap: string): Promise<void> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('snapUnprotect', () => this.#native.snapUnprotect(name, snapName));
  }

  async snapIsProtected(image: string, snap: string): Promise<boolean> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('snapIsProtected', () => this.#native.snapIsProtected(name, snapName));
  }

  async snapList(image: string): Promise<SnapInfo[]> {
    const name = checkString('image', image);
    return call('snapList', () => this.#native.snapList(name));
  }

  /** rbd_clone3 from parent@snap to child, both in this pool. */
  async clone(parent: string, snap: string, child: string, options?: CloneOptions): Promise<void> {
    const parentName = checkString('parent', parent);
    const snapName = checkString('snap', snap);
    const childName = checkString('child', child);
    const opts = checkOptions<CloneOptions>('options', options);
    const format = opts.format ?? 1;
    if (format !== 1 && format !== 2) throw new TypeError('format must be 1 or 2');
    const features = checkOptionalUint('features', opts.features);
    return call('clone', () => this.#native.clone(parentName, snapName, childName, format, features));
  }

  /**
   * Copies the parent's data into `image` and detaches it from its parent.
   * onProgress(done, total) runs on the JS thread (coalesced: not once per
   * object), and with the final values before the promise settles. If it
   * throws, reporting stops, the flatten still completes (librbd cannot stop
   * it), and the promise rejects with the thrown error.
   */
  async flatten(image: string, onProgress?: ProgressCallback): Promise<void> {
    const name = checkString('image', image);
    const callback = checkOptionalFunction<ProgressCallback>('onProgress', onProgress);
    let thrown: { error: unknown } | undefined;
    const progress =
      callback &&
      ((done: number, total: number): void => {
        if (thrown) return;
        try {
          callback(done, total);
        } catch (error) {
          thrown = { error };
        }
      });
    await call('flatten', () => this.#native.flatten(name, progress));
    if (thrown) throw thrown.error;
  }

  /** The clone's parent, or null when `image` has none. */
  async parentInfo(image: string): Promise<ParentInfo | null> {
    const name = checkString('image', image);
    return call('parentInfo', () => this.#native.parentInfo(name));
  }

  /** Clones of image@snap (any pool), trashed ones included and marked. */
  async children(image: string, snap: string): Promise<ChildInfo[]> {
    const [name, snapName] = [checkString('image', image), checkString('snap', snap)];
    return call('children', () => this.#native.children(name, snapName));
  }

  /**
   * The value of the image metadata `key` (rbd_metadata_get), or null when
   * the image has no such key. A missing image still rejects (ENOENT from the
   * open).
   */
  async metadataGet(image: string, key: string): Promise<string | null> {
    const [name, k] = [checkString('image', image), checkString('key', key)];
    return call('metadataGet', () => this.#native.metadataGet(name, k));
  }

  /**
   * Sets the image metadata `key` to `value` (may be empty). librbd reads
   * keys that start with "conf_" as settings of the image (conf_rbd_cache …)
   * and refuses unknown ones with EINVAL.
   */
  async metadataSet(image: string, key: string, value: string): Promise<void> {
    return this.metadataSetMany(image, { [key]: value });
  }

  /**
   * Sets several metadata keys with the image opened once: one open instead of one per key (an open is a
   * round trip to the OSDs). The keys are set in order; on a failure, the keys before it are set, the rest not.
   */
  async metadataSetMany(image: string, entries: Readonly<Record<string, string>>): Promise<void> {
    const name = checkString('image', image);
    const keys: string[] = [];
    const values: string[] = [];
    for (const [key, value] of Object.entries(entries)) {
      keys.push(checkString('key', key));
      values.push(checkStringValue('value', value));
    }
    return call('metadataSet', () => this.#native.metadataSet(name, keys, values));
  }

  /** Removes the image metadata `key`; a key the image does not have is not an error. */
  async metadataRemove(image: string, key: string): Promise<void> {
    const [name, k] = [checkString('image', image), checkString('key', key)];
    return call('metadataRemove', () => this.#native.metadataRemove(name, k));
  }

  /** All metadata of the image (rbd_metadata_list, every page), as a record with no prototype keys. */
  async metadataList(image: string): Promise<Record<string, string>> {
    const name = checkString('image', image);
    return Object.fromEntries(await call('metadataList', () => this.#native.metadataList(name)));
  }

  async openImage(image: string, options?: OpenImageOptions): Promise<Image> {
    const name = checkString('image', image);
    const opts = checkOptions<OpenImageOptions>('options', options);
    if (opts.readOnly !== undefined && typeof opts.readOnly !== 'boolean') {
      throw new TypeError('readOnly must be a boolean');
    }
    const snapshot = checkOptionalString('snapshot', opts.snapshot);
    const native = await call('openImage', () => this.#native.openImage(name, opts.readOnly ?? false, snapshot));
    return new Image(native, INTERNAL);
  }

  close(): Promise<void> {
    return this.#close.run(() => this.#native.close());
  }
}

/** Largest read or write in one call. */
export const MAX_IO_BYTES = 0x7fffffff;

/** An open image, for reads and writes. close() is refused with EBUSY while I/O is pending. */
export class Image {
  readonly name: string;
  readonly #native: NativeImage;
  readonly #close = new CloseOnce();

  constructor(native: NativeImage, token: typeof INTERNAL) {
    checkInternal(token, 'Image');
    this.#native = native;
    this.name = native.name;
  }

  get closed(): boolean {
    return this.#close.closed;
  }

  async size(): Promise<number> {
    return call('size', () => this.#native.size());
  }

  /** Reads up to `length` bytes; shorter at the end of the image. */
  async read(offset: number, length: number): Promise<Buffer> {
    const off = checkUint('offset', offset);
    const len = checkUint('length', length);
    if (len > MAX_IO_BYTES) throw new TypeError(`length must be at most ${MAX_IO_BYTES}`);
    return call('read', () => this.#native.read(off, len));
  }

  /** Writes `data` at `offset`; resolves with the number of bytes written. */
  async write(offset: number, data: Buffer | Uint8Array): Promise<number> {
    const off = checkUint('offset', offset);
    const buffer = checkBuffer('data', data);
    if (buffer.length > MAX_IO_BYTES) throw new TypeError(`data must be at most ${MAX_IO_BYTES} bytes`);
    return call('write', () => this.#native.write(off, buffer));
  }

  async flush(): Promise<void> {
    return call('flush', () => this.#native.flush());
  }

  close(): Promise<void> {
    return this.#close.run(() => this.#native.close());
  }
}
