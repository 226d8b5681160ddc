import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../config/app-config';
import { runSaga } from '../../common/orchestration/saga';
import { FsBootFileStore } from './drivers/fs-boot-file.store';
import { TftpService } from './tftp.service';

const IPXE =
  '#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net2\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot';
const PXE =
  'DEFAULT menu\n  PROMPT 0\n  MENU TITLE PXE Menu\n  TIMEOUT 30\n  ONTIMEOUT disk1\n\n\nLABEL disk1\n     MENU LABEL disk1\n     KERNEL ipxe.lkrn\n     INITRD node-01.ipxe';
const FILES = { node: 'node-01', mac: '52:54:00:aB:cD:Ef', target: '5img12', label: 'disk1' };
const MAC_FILE = '01-52-54-00-ab-cd-ef';

let dir: string;
let tftpRoot: string;
let pxeDir: string;
let store: FsBootFileStore;
let tftp: TftpService;

function service(extraIni = ''): TftpService {
  const config = loadConfig({
    env: {},
    text: `[bmi]\nuid = 5\n[db]\npath = :memory:\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = fake
[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = ${pxeDir}/\nipxe_path = ${tftpRoot}/\nleases_file = ${path.join(dir, 'leases')}\n${extraIni}`,
  });
  return new TftpService(store, config);
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  dir = mkdtempSync(path.join(tmpdir(), 'bmi-tftp-'));
  tftpRoot = path.join(dir, 'tftpboot');
  pxeDir = path.join(tftpRoot, 'pxelinux.cfg');
  store = new FsBootFileStore({ ipxe: tftpRoot, pxelinux: pxeDir });
  tftp = service();
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => statSync(file).mode & 0o777;

describe('TftpService.render', () => {
  it('renders both files from the config and the disk', () => {
    expect(tftp.render(FILES)).toEqual({ ipxe: IPXE, pxelinux: PXE });
  });

  it('takes the iSCSI port, LUN and iPXE interface from the config', () => {
    const s = service('[iscsi]\nport = 3270\nlun = 2\n[tftp]\nipxe_interface = net0');
    expect(s.render(FILES).ipxe).toBe(
      '#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net0\n      sanboot --keep iscsi:10.0.0.1:tcp:3270:2:5img12\n      boot',
    );
  });
});

describe('TftpService.writeSteps', () => {
  it('writes <node>.ipxe (0755) in the TFTP root and 01-<lower-case mac> (0644) in pxelinux.cfg', async () => {
    await runSaga('provision', tftp.writeSteps(FILES));
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeDir, MAC_FILE))).toBe(0o644);
    expect(readdirSync(pxeDir)).toEqual([MAC_FILE]);
  });

  it('undo of a new file removes it', async () => {
    const [ipxe, pxe] = tftp.writeSteps(FILES);
    await ipxe.run();
    await pxe.run();
    await pxe.undo!();
    await ipxe.undo!();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();
  });

  it('undo of a replaced file puts the previous content back, with the file’s mode', async () => {
    await store.put('ipxe', 'node-01.ipxe', 'previous ipxe', 0o755);
    await store.put('pxelinux', MAC_FILE, 'previous pxe', 0o644);
    const [ipxe, pxe] = tftp.writeSteps(FILES);
    await ipxe.run();
    await pxe.run();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    await pxe.undo!();
    await ipxe.undo!();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe('previous ipxe');
    expect(await store.get('pxelinux', MAC_FILE)).toBe('previous pxe');
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeDir, MAC_FILE))).toBe(0o644);
  });

  it('when the second file fails, the first is removed again (new) or restored (replaced)', async () => {
    await store.put('ipxe', 'node-01.ipxe', 'previous ipxe', 0o755);
    const put = store.put.bind(store);
    jest.spyOn(store, 'put').mockImplementation(async (root, name, content, m) => {
      if (root === 'pxelinux') throw new Error('disk full');
      return put(root, name, content, m);
    });
    await expect(runSaga('provision', tftp.writeSteps(FILES))).rejects.toThrow('disk full');
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe('previous ipxe');
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();

    await store.remove('ipxe', 'node-01.ipxe');
    await expect(runSaga('provision', tftp.writeSteps(FILES))).rejects.toThrow('disk full');
    expect(readdirSync(tftpRoot)).toEqual([]);
  });
});

describe('TftpService.removeSteps', () => {
  it('removes both files', async () => {
    await runSaga('provision', tftp.writeSteps(FILES));
    await runSaga('deprovision', tftp.removeSteps('node-01', '52:54:00:AB:CD:EF'));
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();
  });

  it('files that are already gone are fine', async () => {
    await expect(runSaga('deprovision', tftp.removeSteps('node-01', FILES.mac))).resolves.toBeUndefined();
  });

  it('undo puts each removed file back with its content and mode', async () => {
    await runSaga('provision', tftp.writeSteps(FILES));
    const [ipxe, pxe] = tftp.removeSteps('node-01', FILES.mac);
    await ipxe.run();
    await pxe.run();
    await pxe.undo!();
    await ipxe.undo!();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeDir, MAC_FILE))).toBe(0o644);
  });

  it('when the second removal fails, the first file is put back', async () => {
    await runSaga('provision', tftp.writeSteps(FILES));
    const remove = store.remove.bind(store);
    jest.spyOn(store, 'remove').mockImplementation(async (root, name) => {
      if (root === 'pxelinux') throw new Error('read-only file system');
      return remove(root, name);
    });
    await expect(runSaga('deprovision', tftp.removeSteps('node-01', FILES.mac))).rejects.toThrow('read-only');
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
  });

  it('undo of a file that was not there creates nothing', async () => {
    const [ipxe] = tftp.removeSteps('node-01', FILES.mac);
    await ipxe.run();
    await ipxe.undo!();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
  });
});

describe('TftpService.read / leases', () => {
  it('read returns a boot file', async () => {
    await runSaga('provision', tftp.writeSteps(FILES));
    expect(await tftp.read('pxelinux', MAC_FILE)).toBe(PXE);
  });

  it('leases reads the configured leases file', async () => {
    expect(await tftp.leases()).toEqual([]);
    writeFileSync(path.join(dir, 'leases'), '1700000000 52:54:00:AB:CD:EF 10.0.0.9 node-01 *\n');
    expect(await tftp.leases()).toEqual([
      { expires: 1700000000, mac: '52:54:00:ab:cd:ef', ip: '10.0.0.9', hostname: 'node-01' },
    ]);
  });
});
