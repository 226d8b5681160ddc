// Options and results of the public API (re-exported by index.ts).
import type { NativeBinding } from './binding';

export interface ConnectOptions {
  /** Path of ceph.conf. */
  confFile: string;
  /** Client id without the "client." prefix, e.g. "bmi". */
  clientId: string;
  /** Keyring path; default: whatever ceph.conf says for this client. */
  keyring?: string;
  /** Sets client_mount_timeout, rados_mon_op_timeout and rados_osd_op_timeout. Default 30. */
  timeoutSeconds?: number;
  /** For tests: a binding object (a fake), or the path of another build of the addon. */
  nativeBinding?: string | NativeBinding;
}

export interface CreateOptions {
  /** Feature bits (see Features); default Features.DEFAULT. */
  features?: number;
  /** Object size as a power of two (12..25); default 22 (4 MiB). */
  order?: number;
}

export interface CloneOptions {
  /** 1 (default): the parent snapshot must be protected. 2: it need not be. */
  format?: 1 | 2;
  /** Feature bits of the child; default: librbd's choice. */
  features?: number;
}

export interface OpenImageOptions {
  readOnly?: boolean;
  /** Open at this snapshot (read-only data). */
  snapshot?: string;
}

export interface ImageStat {
  size: number;
  objectSize: number;
  numObjects: number;
  order: number;
}

export interface SnapInfo {
  id: number;
  name: string;
  size: number;
  /**
   * 'user' for ordinary snapshots. 'trash' for a snapshot removed while
   * clone-v2 children still depend on it (its name is then a UUID; it goes
   * away with its last child). Also 'group', 'mirror'.
   */
  namespace: SnapNamespace;
}

export type SnapNamespace = 'user' | 'group' | 'trash' | 'mirror' | 'unknown';

export interface ParentInfo {
  pool: string;
  image: string;
  snapshot: string;
}

export interface ChildInfo {
  pool: string;
  image: string;
  /** The child is in the pool's trash (it still counts as a child). */
  trash: boolean;
}

export type ProgressCallback = (done: number, total: number) => void;
