import {
  promises as fsPromises,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BootFileError, UnsafeBootFileNameError } from '../tftp.errors';
import { FsBootFileStore } from './fs-boot-file.store';

let base: string;
let ipxeRoot: string;
let pxeRoot: string;
let store: FsBootFileStore;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'bmi-bootfiles-'));
  ipxeRoot = path.join(base, 'tftpboot');
  pxeRoot = path.join(ipxeRoot, 'pxelinux.cfg');
  store = new FsBootFileStore({ ipxe: ipxeRoot, pxelinux: pxeRoot });
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(base, { recursive: true, force: true });
});

/** Every file and directory under the temp base (and the base's own parent entry), as relative paths. */
function tree(dir = base): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(path.relative(base, p) + (e.isDirectory() ? '/' : ''));
    if (e.isDirectory()) out.push(...tree(p));
  }
  return out.sort();
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('FsBootFileStore.put', () => {
  it('writes the file under its root with the given mode, creating the root', async () => {
    expect(await store.put('ipxe', 'node-01.ipxe', '#!ipxe', 0o755)).toBeNull();
    expect(await store.put('pxelinux', '01-52-54-00-12-34-56', 'DEFAULT menu', 0o644)).toBeNull();
    expect(readFileSync(path.join(ipxeRoot, 'node-01.ipxe'), 'utf8')).toBe('#!ipxe');
    expect(readFileSync(path.join(pxeRoot, '01-52-54-00-12-34-56'), 'utf8')).toBe('DEFAULT menu');
    expect(mode(path.join(ipxeRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeRoot, '01-52-54-00-12-34-56'))).toBe(0o644);
  });

  it('sets the mode whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      await store.put('ipxe', 'n.ipxe', 'x', 0o755);
    } finally {
      process.umask(old);
    }
    expect(mode(path.join(ipxeRoot, 'n.ipxe'))).toBe(0o755);
  });

  it('replaces an existing file, returns what it held, and applies the new mode', async () => {
    await store.put('ipxe', 'n.ipxe', 'first', 0o644);
    expect(await store.put('ipxe', 'n.ipxe', 'second', 0o755)).toBe('first');
    expect(readFileSync(path.join(ipxeRoot, 'n.ipxe'), 'utf8')).toBe('second');
    expect(mode(path.join(ipxeRoot, 'n.ipxe'))).toBe(0o755);
  });

  it('leaves no temporary file behind', async () => {
    await store.put('ipxe', 'n.ipxe', 'a', 0o755);
    await store.put('ipxe', 'n.ipxe', 'b', 0o755);
    expect(tree()).toEqual(['tftpboot/', 'tftpboot/n.ipxe']);
  });

  it('keeps content byte for byte (no newline added, UTF-8 kept)', async () => {
    await store.put('pxelinux', 'f', 'a\n\n  b\tç', 0o644);
    expect(readFileSync(path.join(pxeRoot, 'f'), 'utf8')).toBe('a\n\n  b\tç');
    expect(await store.get('pxelinux', 'f')).toBe('a\n\n  b\tç');
  });

  it('a write that fails is a BootFileError, the old file is intact and no temporary file is left', async () => {
    await store.put('ipxe', 'n.ipxe', 'old', 0o755);
    jest.spyOn(fsPromises, 'rename').mockRejectedValueOnce(Object.assign(new Error('cross-device'), { code: 'EXDEV' }));
    const err = await store.put('ipxe', 'n.ipxe', 'new', 0o755).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootFileError);
    expect((err as Error).message).toBe('Failed to write boot file n.ipxe: EXDEV');
    expect(readFileSync(path.join(ipxeRoot, 'n.ipxe'), 'utf8')).toBe('old');
    expect(tree()).toEqual(['tftpboot/', 'tftpboot/n.ipxe']);
  });

  it('a root that cannot be created is a BootFileError and nothing is written', async () => {
    writeFileSync(path.join(base, 'blocker'), '');
    const blocked = new FsBootFileStore({ ipxe: path.join(base, 'blocker', 'sub'), pxelinux: pxeRoot });
    await expect(blocked.put('ipxe', 'n.ipxe', 'x', 0o755)).rejects.toThrow(BootFileError);
    expect(tree()).toEqual(['blocker']);
  });
});

describe('FsBootFileStore.get / remove', () => {
  it('get of a missing file is null', async () => {
    expect(await store.get('ipxe', 'none.ipxe')).toBeNull();
  });

  it('remove returns what the file held and deletes it', async () => {
    await store.put('pxelinux', '01-aa', 'cfg', 0o644);
    expect(await store.remove('pxelinux', '01-aa')).toBe('cfg');
    expect(await store.get('pxelinux', '01-aa')).toBeNull();
    expect(tree()).toEqual(['tftpboot/', 'tftpboot/pxelinux.cfg/']);
  });

  it('remove of a missing file (or missing root) is fine and returns null', async () => {
    expect(await store.remove('ipxe', 'none.ipxe')).toBeNull();
    expect(await store.remove('pxelinux', 'none')).toBeNull();
  });

  it('the two roots are separate', async () => {
    await store.put('ipxe', 'same', 'ipxe', 0o755);
    await store.put('pxelinux', 'same', 'pxe', 0o644);
    expect(await store.get('ipxe', 'same')).toBe('ipxe');
    expect(await store.get('pxelinux', 'same')).toBe('pxe');
  });

  it('get of a name that is a directory is a BootFileError', async () => {
    mkdirSync(path.join(ipxeRoot, 'dir'), { recursive: true });
    await expect(store.get('ipxe', 'dir')).rejects.toThrow(BootFileError);
  });
});

describe('FsBootFileStore: unsafe names', () => {
  const unsafe = [
    '../escape',
    '../../etc/passwd',
    '..',
    '.',
    'a/b',
    '/etc/passwd',
    'pxelinux.cfg/01-aa',
    '.hidden',
    '-rf',
    'a..b',
    'node;rm -rf ~',
    'node$(id)',
    'node`id`',
    'node|cat',
    'node&',
    'a b',
    'a\nb',
    'a\\b',
    "it's",
    'node>x',
    '',
    'x'.repeat(200),
  ];

  it.each(unsafe.map((n) => [JSON.stringify(n), n]))(
    '%s is refused by put, get and remove, and nothing is written',
    async (_, name) => {
      // a file outside the roots that an escape would hit
      mkdirSync(pxeRoot, { recursive: true });
      writeFileSync(path.join(base, 'escape'), 'outside');
      const before = tree();
      await expect(store.put('pxelinux', name, 'x', 0o644)).rejects.toThrow(UnsafeBootFileNameError);
      await expect(store.put('ipxe', name, 'x', 0o755)).rejects.toThrow(UnsafeBootFileNameError);
      await expect(store.get('ipxe', name)).rejects.toThrow(UnsafeBootFileNameError);
      await expect(store.remove('pxelinux', name)).rejects.toThrow(UnsafeBootFileNameError);
      expect(tree()).toEqual(before);
      expect(readFileSync(path.join(base, 'escape'), 'utf8')).toBe('outside');
    },
  );

  it('the refusal is a 400 naming the name', async () => {
    const err = await store.put('ipxe', '../x', 'x', 0o755).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, message: 'Unsafe boot file name "../x"' });
  });

  it('accepts the names BMI writes: <node>.ipxe, 01-<mac>, and 128 characters', async () => {
    await store.put('ipxe', 'node_01.ipxe', 'x', 0o755);
    await store.put('pxelinux', '01-52-54-00-ab-cd-ef', 'x', 0o644);
    await store.put('ipxe', 'n'.repeat(128), 'x', 0o755);
    expect(tree()).toEqual([
      'tftpboot/',
      `tftpboot/${'n'.repeat(128)}`,
      'tftpboot/node_01.ipxe',
      'tftpboot/pxelinux.cfg/',
      'tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-ef',
    ]);
  });

  it('129 characters is refused', async () => {
    await expect(store.put('ipxe', 'n'.repeat(129), 'x', 0o755)).rejects.toThrow(UnsafeBootFileNameError);
  });
});

describe('FsBootFileStore: the per-MAC script root', () => {
  it('is a root of its own when configured', async () => {
    const macRoot = path.join(ipxeRoot, 'mac');
    const s = new FsBootFileStore({ ipxe: ipxeRoot, pxelinux: pxeRoot, mac: macRoot });
    await s.put('mac', '52-54-00-12-34-56.ipxe', '#!ipxe', 0o644);
    expect(readFileSync(path.join(macRoot, '52-54-00-12-34-56.ipxe'), 'utf8')).toBe('#!ipxe');
    expect(await s.get('ipxe', '52-54-00-12-34-56.ipxe')).toBeNull();
  });

  it('when not configured, every call is a BootFileError and nothing is written anywhere', async () => {
    await expect(store.put('mac', '52-54-00-12-34-56.ipxe', 'x', 0o644)).rejects.toThrow(BootFileError);
    await expect(store.get('mac', '52-54-00-12-34-56.ipxe')).rejects.toThrow(BootFileError);
    await expect(store.remove('mac', '52-54-00-12-34-56.ipxe')).rejects.toThrow(BootFileError);
    expect(tree()).toEqual([]);
  });
});
