// The only place that loads the compiled addon (build/Release/ceph_rbd_napi.node).
// Like better-sqlite3's `nativeBinding` option, callers (tests) can pass an
// already-loaded binding object, or the path of another .node file, instead.
import * as path from 'node:path';

import type { ChildInfo, ImageStat, ParentInfo, SnapInfo } from './types';

/** The shape of the compiled addon. Every method returns a Promise, except
 *  that a wrong argument type throws a TypeError synchronously (a backstop:
 *  lib validates first). Rejections carry { code, errno, op, target }. */
export interface NativeBinding {
  connect(
    confFile: string,
    clientId: string,
    keyring: string | undefined,
    timeoutSeconds: number,
  ): Promise<NativeCluster>;
  readonly librbdVersion?: string;
  readonly features?: Readonly<Record<string, number>>;
}

export interface NativeCluster {
  openPool(pool: string): Promise<NativeIoCtx>;
  addresses(): Promise<string>;
  blocklist(address: string, expireSeconds: number): Promise<void>;
  close(): Promise<void>;
}

export interface NativeIoCtx {
  readonly pool: string;
  listImages(): Promise<string[]>;
  create(image: string, sizeBytes: number, features?: number, order?: number): Promise<void>;
  remove(image: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  stat(image: string): Promise<ImageStat>;
  snapCreate(image: string, snap: string): Promise<void>;
  snapRemove(image: string, snap: string): Promise<void>;
  snapProtect(image: string, snap: string): Promise<void>;
  snapUnprotect(image: string, snap: string): Promise<void>;
  snapIsProtected(image: string, snap: string): Promise<boolean>;
  snapList(image: string): Promise<SnapInfo[]>;
  clone(parent: string, snap: string, child: string, format: number, features?: number): Promise<void>;
  flatten(image: string, onProgress?: (done: number, total: number) => void): Promise<void>;
  parentInfo(image: string): Promise<ParentInfo | null>;
  children(image: string, snap: string): Promise<ChildInfo[]>;
  /** The value of `key`, or null when the image has no such key. */
  metadataGet(image: string, key: string): Promise<string | null>;
  /** sets keys[i] to values[i], the image opened once */
  metadataSet(image: string, keys: string[], values: string[]): Promise<void>;
  /** Resolves also when the image has no such key. */
  metadataRemove(image: string, key: string): Promise<void>;
  /** Every [key, value] of the image, in key order. */
  metadataList(image: string): Promise<[string, string][]>;
  openImage(image: string, readOnly: boolean, snapshot?: string): Promise<NativeImage>;
  close(): Promise<void>;
}

export interface NativeImage {
  readonly name: string;
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Where `npm install` (node-gyp rebuild) puts the addon. */
export const ADDON_PATH = path.join(__dirname, '..', 'build', 'Release', 'ceph_rbd_napi.node');

let defaultBinding: NativeBinding | undefined;

function requireAddon(file: string): NativeBinding {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NativeBinding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `ceph-rbd-napi: cannot load the native addon ${file}: ${reason}. ` +
        'Build it with `npm run build` in native/ceph-rbd-napi (needs librbd-dev and librados-dev).',
      { cause },
    );
  }
}

/**
 * The binding to use: `injected` when it is an object, the addon at
 * `injected` when it is a path, else the package's own build (loaded once,
 * on first use, so importing this package never needs librbd).
 */
export function loadBinding(injected?: string | NativeBinding): NativeBinding {
  if (typeof injected === 'object' && injected !== null) return injected;
  if (typeof injected === 'string') return requireAddon(injected);
  defaultBinding ??= requireAddon(ADDON_PATH);
  return defaultBinding;
}
