/**
 * BootFileStore: the only seam through which BMI touches the TFTP tree. Files live in configured roots (the iPXE
 * root, the pxelinux.cfg directory and, when configured, the per-MAC script directory); a name is a single path
 * component, checked by the store, never a path.
 * `put` is atomic (write to a temporary file, then rename) and returns what the file held before, so that a
 * failed operation can put it back; `remove` of a missing file is not an error.
 */
export abstract class BootFileStore {
  abstract put(root: BootRoot, name: string, content: string, mode: number): Promise<string | null>;
  abstract get(root: BootRoot, name: string): Promise<string | null>;
  /** Returns what the file held, or null when there was no file. */
  abstract remove(root: BootRoot, name: string): Promise<string | null>;
  /** The names of the files of a root, sorted (none when the root is not configured or does not exist). */
  abstract list(root: BootRoot): Promise<string[]>;
}

/** `ipxe`: <node>.ipxe; `pxelinux`: 01-<mac>; `mac`: <mac>.ipxe for clients that are iPXE already. */
export type BootRoot = 'ipxe' | 'pxelinux' | 'mac';
