/**
 * BootFileStore: the only seam through which BMI touches the TFTP tree. Files live in two roots (the iPXE root
 * and the pxelinux.cfg directory); a name is a single path component, checked by the store, never a path.
 * `put` is atomic (write to a temporary file, then rename) and returns what the file held before, so that a
 * failed operation can put it back; `remove` of a missing file is not an error.
 */
export abstract class BootFileStore {
  abstract put(root: BootRoot, name: string, content: string, mode: number): Promise<string | null>;
  abstract get(root: BootRoot, name: string): Promise<string | null>;
  /** Returns what the file held, or null when there was no file. */
  abstract remove(root: BootRoot, name: string): Promise<string | null>;
}

export type BootRoot = 'ipxe' | 'pxelinux';
