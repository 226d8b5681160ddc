import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BootFileStore, BootRoot } from '../boot-file.store';
import { BootFileError, UnsafeBootFileNameError } from '../tftp.errors';

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Boot files as real files in real directories (the TFTP server's tree); also used by the laptop mode. A root
 * that is not configured (the per-MAC scripts by default) refuses every name.
 */
export class FsBootFileStore extends BootFileStore {
  constructor(private readonly roots: Partial<Record<BootRoot, string>>) {
    super();
  }

  async put(root: BootRoot, name: string, content: string, mode: number): Promise<string | null> {
    const file = this.resolve(root, name);
    const tmp = path.join(path.dirname(file), `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    // what the file held is read while the new content is written aside: both before the rename
    const previous = this.get(root, name);
    previous.catch(() => undefined); // awaited below; a failed write must not leave it unhandled
    try {
      await fs.writeFile(tmp, content, { mode }).catch(async (e: NodeJS.ErrnoException) => {
        // the root's directory is made on the first write only: one call less on every other
        if (e.code !== 'ENOENT') throw e;
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(tmp, content, { mode });
      });
      await fs.chmod(tmp, mode);
      await previous;
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      if (e instanceof BootFileError) throw e; // reading the previous content failed
      throw new BootFileError(`Failed to write boot file ${name}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        cause: e,
      });
    }
    return previous;
  }

  async get(root: BootRoot, name: string): Promise<string | null> {
    const file = this.resolve(root, name);
    try {
      return await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BootFileError(`Failed to read boot file ${name}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        cause: e,
      });
    }
  }

  async remove(root: BootRoot, name: string): Promise<string | null> {
    const previous = await this.get(root, name);
    try {
      await fs.rm(this.resolve(root, name), { force: true });
    } catch (e) {
      throw new BootFileError(`Failed to remove boot file ${name}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        cause: e,
      });
    }
    return previous;
  }

  async list(root: BootRoot): Promise<string[]> {
    const configured = this.roots[root];
    if (!configured) return [];
    try {
      const entries = await fs.readdir(path.resolve(configured), { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && FILE_NAME.test(e.name))
        .map((e) => e.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new BootFileError(`Failed to list the ${root} boot files: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        cause: e,
      });
    }
  }

  /** One path component under its root, or an error: nothing is ever written outside the roots. */
  private resolve(root: BootRoot, name: string): string {
    if (!FILE_NAME.test(name) || name.includes('..')) {
      throw new UnsafeBootFileNameError(`Unsafe boot file name "${name}"`);
    }
    const configured = this.roots[root];
    if (!configured) throw new BootFileError(`No directory is configured for ${root} boot files`);
    const dir = path.resolve(configured);
    const file = path.resolve(dir, name);
    if (path.dirname(file) !== dir) throw new UnsafeBootFileNameError(`Unsafe boot file name "${name}"`);
    return file;
  }
}
