import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../config/app-config';
import { SagaActions } from '../../common/orchestration/actions';
import { runSaga, Step } from '../../common/orchestration/saga';
import { FsBootFileStore } from './drivers/fs-boot-file.store';
import { TftpService } from './tftp.service';

const IPXE =
  '#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net2\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot';
const PXE =
  'DEFAULT menu\n  PROMPT 0\n  MENU TITLE PXE Menu\n  TIMEOUT 30\n  ONTIMEOUT disk1\n\n\nLABEL disk1\n     MENU LABEL disk1\n     KERNEL ipxe.lkrn\n     INITRD node-01.ipxe';
const MAC_SCRIPT = '#!ipxe\n      set keep-san 1\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot';
const FILES = { node: 'node-01', mac: '52:54:00:aB:cD:Ef', target: '5img12', label: 'disk1' };
const MAC_FILE = '01-52-54-00-ab-cd-ef';
const MAC_SCRIPT_FILE = '52-54-00-ab-cd-ef.ipxe';

let dir: string;
let tftpRoot: string;
let pxeDir: string;
let macDir: string;
let store: FsBootFileStore;
let tftp: TftpService;
let actions: SagaActions;

/** Runs the steps as one operation. */
async function runSteps(kind: string, steps: Promise<Step[]>): Promise<void> {
  const list = await steps;
  await runSaga(kind, actions, undefined, async (s) => {
    for (const step of list) await s.step(step);
  });
}

function undo(step: Step): Promise<void> {
  return actions.run(step.undo!);
}

function service(extraIni = ''): TftpService {
  const config = loadConfig({
    env: {},
    text: `[bmi]\nuid = 5\n[db]\npath = :memory:\n[driver]\nfs = fake\niscsi = fake\nnet_isolator = fake
[iscsi]\nip = 10.0.0.1\n[tftp]\npxelinux_path = ${pxeDir}/\nipxe_path = ${tftpRoot}/\nleases_file = ${path.join(dir, 'leases')}\n${extraIni}`,
  });
  actions = new SagaActions();
  return new TftpService(store, config, actions);
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  dir = mkdtempSync(path.join(tmpdir(), 'bmi-tftp-'));
  tftpRoot = path.join(dir, 'tftpboot');
  pxeDir = path.join(tftpRoot, 'pxelinux.cfg');
  macDir = path.join(tftpRoot, 'mac');
  store = new FsBootFileStore({ ipxe: tftpRoot, pxelinux: pxeDir, mac: macDir });
  tftp = service();
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => statSync(file).mode & 0o777;

describe('TftpService.render', () => {
  it('renders the files from the config and the disk', () => {
    expect(tftp.render(FILES)).toEqual({ ipxe: IPXE, pxelinux: PXE, mac: MAC_SCRIPT });
  });

  it('with an initiator name (initiator ACL), both scripts set it before the login', () => {
    const r = tftp.render({ ...FILES, initiator: 'iqn.2026-11.org.bmi:5img12:initiator' });
    expect(r.ipxe).toBe(
      '#!ipxe\n      set keep-san 1\n      set initiator-iqn iqn.2026-11.org.bmi:5img12:initiator\n      ifconf --configurator=dhcp net2\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot',
    );
    expect(r.mac).toBe(
      '#!ipxe\n      set keep-san 1\n      set initiator-iqn iqn.2026-11.org.bmi:5img12:initiator\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:5img12\n      boot',
    );
    expect(r.pxelinux).toBe(PXE);
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
    await runSteps('provision', tftp.writeSteps(FILES));
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeDir, MAC_FILE))).toBe(0o644);
    expect(readdirSync(pxeDir)).toEqual([MAC_FILE]);
  });

  it('undo of a new file removes it', async () => {
    const [ipxe, pxe] = await tftp.writeSteps(FILES);
    await ipxe.run();
    await pxe.run();
    await undo(pxe);
    await undo(ipxe);
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();
  });

  it('undo of a replaced file puts the previous content back, with the file’s mode', async () => {
    await store.put('ipxe', 'node-01.ipxe', 'previous ipxe', 0o755);
    await store.put('pxelinux', MAC_FILE, 'previous pxe', 0o644);
    const [ipxe, pxe] = await tftp.writeSteps(FILES);
    await ipxe.run();
    await pxe.run();
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    await undo(pxe);
    await undo(ipxe);
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
    await expect(runSteps('provision', tftp.writeSteps(FILES))).rejects.toThrow('disk full');
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe('previous ipxe');
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();

    await store.remove('ipxe', 'node-01.ipxe');
    await expect(runSteps('provision', tftp.writeSteps(FILES))).rejects.toThrow('disk full');
    expect(readdirSync(tftpRoot)).toEqual([]);
  });
});

describe('TftpService.removeSteps', () => {
  it('removes both files', async () => {
    await runSteps('provision', tftp.writeSteps(FILES));
    await runSteps('deprovision', tftp.removeSteps('node-01', '52:54:00:AB:CD:EF'));
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
    expect(await store.get('pxelinux', MAC_FILE)).toBeNull();
  });

  it('files that are already gone are fine', async () => {
    await expect(runSteps('deprovision', tftp.removeSteps('node-01', FILES.mac))).resolves.toBeUndefined();
  });

  it('undo puts each removed file back with its content and mode', async () => {
    await runSteps('provision', tftp.writeSteps(FILES));
    const [ipxe, pxe] = await tftp.removeSteps('node-01', FILES.mac);
    await ipxe.run();
    await pxe.run();
    await undo(pxe);
    await undo(ipxe);
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
    expect(mode(path.join(pxeDir, MAC_FILE))).toBe(0o644);
  });

  it('when the second removal fails, the first file is put back', async () => {
    await runSteps('provision', tftp.writeSteps(FILES));
    const remove = store.remove.bind(store);
    jest.spyOn(store, 'remove').mockImplementation(async (root, name) => {
      if (root === 'pxelinux') throw new Error('read-only file system');
      return remove(root, name);
    });
    await expect(runSteps('deprovision', tftp.removeSteps('node-01', FILES.mac))).rejects.toThrow('read-only');
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE);
    expect(await store.get('pxelinux', MAC_FILE)).toBe(PXE);
  });

  it('undo of a file that was not there creates nothing', async () => {
    const [ipxe] = await tftp.removeSteps('node-01', FILES.mac);
    await ipxe.run();
    await undo(ipxe);
    expect(await store.get('ipxe', 'node-01.ipxe')).toBeNull();
  });
});

describe('TftpService.read / leases', () => {
  it('read returns a boot file', async () => {
    await runSteps('provision', tftp.writeSteps(FILES));
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

/** Every file under the temp dir (but the leases), relative, with its mode. */
function tree(d = dir, out: Record<string, number> = {}): Record<string, number> {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) tree(p, out);
    else out[path.relative(dir, p)] = mode(p);
  }
  return out;
}

describe('per-MAC iPXE scripts ([tftp] ipxe_mac_path)', () => {
  let withMac: TftpService;
  beforeEach(() => {
    withMac = service(`ipxe_mac_path = ${macDir}`);
  });

  it('without ipxe_mac_path only the original two files are written and removed', async () => {
    await runSteps('provision', tftp.writeSteps(FILES));
    expect(tree()).toEqual({ 'tftpboot/node-01.ipxe': 0o755, [`tftpboot/pxelinux.cfg/${MAC_FILE}`]: 0o644 });
    expect(await tftp.removeSteps('node-01', FILES.mac)).toHaveLength(2);
  });

  it('provision writes <mac>.ipxe (0644, lower-case, dashes) as well; deprovision removes exactly the three', async () => {
    await runSteps('provision', withMac.writeSteps(FILES));
    expect(tree()).toEqual({
      'tftpboot/node-01.ipxe': 0o755,
      [`tftpboot/pxelinux.cfg/${MAC_FILE}`]: 0o644,
      [`tftpboot/mac/${MAC_SCRIPT_FILE}`]: 0o644,
    });
    expect(await store.get('mac', MAC_SCRIPT_FILE)).toBe(MAC_SCRIPT);
    await runSteps('deprovision', withMac.removeSteps('node-01', '52:54:00:AB:cd:EF'));
    expect(tree()).toEqual({});
  });

  it('rewriteScripts gives the scripts booting from one target its credentials, and leaves the others alone', async () => {
    await runSteps('provision', withMac.writeSteps(FILES));
    await runSteps(
      'provision',
      withMac.writeSteps({ ...FILES, node: 'node-02', mac: '52:54:00:00:00:02', target: '5img13' }),
    );
    const chap = { user: 'bmi-0a1b2c3d4e5f6a7b', secret: 'Zq81mNVa0pLk3sTu' };
    expect(await withMac.rewriteScripts('5img12', { initiator: 'iqn.2026-11.org.bmi.node:ab', chap })).toBe(2);
    const access =
      '      set initiator-iqn iqn.2026-11.org.bmi.node:ab\n      set username bmi-0a1b2c3d4e5f6a7b\n' +
      '      set password Zq81mNVa0pLk3sTu\n';
    expect(await store.get('ipxe', 'node-01.ipxe')).toBe(IPXE.replace('      ifconf', `${access}      ifconf`));
    expect(await store.get('mac', MAC_SCRIPT_FILE)).toBe(MAC_SCRIPT.replace('      sanboot', `${access}      sanboot`));
    expect(await store.get('ipxe', 'node-02.ipxe')).not.toContain('username');
    expect(mode(path.join(tftpRoot, 'node-01.ipxe'))).toBe(0o755);
  });

  it('deprovision leaves other nodes’ per-MAC scripts alone', async () => {
    await store.put('mac', '52-54-00-00-00-99.ipxe', 'other', 0o644);
    await runSteps('provision', withMac.writeSteps(FILES));
    await runSteps('deprovision', withMac.removeSteps('node-01', FILES.mac));
    expect(tree()).toEqual({ 'tftpboot/mac/52-54-00-00-00-99.ipxe': 0o644 });
  });

  it('when the per-MAC script cannot be written, the other two are undone', async () => {
    const put = store.put.bind(store);
    jest.spyOn(store, 'put').mockImplementation(async (root, name, content, m) => {
      if (root === 'mac') throw new Error('disk full');
      return put(root, name, content, m);
    });
    await expect(runSteps('provision', withMac.writeSteps(FILES))).rejects.toThrow('disk full');
    expect(tree()).toEqual({});
  });
});

describe('TftpService.httpBootScript (GET /boot/ipxe)', () => {
  const on = () => `ipxe_mac_path = ${macDir}\nhttp_boot = true`;

  it('serves the per-MAC script of a provisioned MAC, written with colons or dashes, in any case', async () => {
    const s = service(on());
    await runSteps('provision', s.writeSteps(FILES));
    for (const mac of ['52:54:00:ab:cd:ef', '52-54-00-AB-CD-EF', '52:54:00:aB:cD:Ef']) {
      expect(await s.httpBootScript(mac, '10.99.0.5')).toBe(MAC_SCRIPT);
    }
  });

  it('is off (404) unless http_boot is set, even for a provisioned MAC', async () => {
    const s = service(`ipxe_mac_path = ${macDir}`);
    await runSteps('provision', s.writeSteps(FILES));
    await expect(s.httpBootScript(FILES.mac, '10.99.0.5')).rejects.toMatchObject({
      status: 404,
      code: 'HTTP_BOOT_OFF',
    });
  });

  it('a MAC no node is provisioned with is 404, also after deprovision', async () => {
    const s = service(on());
    await expect(s.httpBootScript('52:54:00:00:00:01', '10.99.0.5')).rejects.toMatchObject({
      status: 404,
      code: 'NOT_PROVISIONED',
    });
    await runSteps('provision', s.writeSteps(FILES));
    await runSteps('deprovision', s.removeSteps('node-01', FILES.mac));
    await expect(s.httpBootScript(FILES.mac, '10.99.0.5')).rejects.toMatchObject({ code: 'NOT_PROVISIONED' });
  });

  it('anything but a MAC is 400 and reads no file (no path can be smuggled in)', async () => {
    const s = service(on());
    await store.put('ipxe', 'node-01.ipxe', 'secret', 0o755);
    const get = jest.spyOn(store, 'get');
    for (const mac of ['../node-01', '52:54:00:ab:cd', '52:54:00:ab:cd:ef:00', 'node-01', '', '52:54:00:ab:cd:e/']) {
      await expect(s.httpBootScript(mac, '10.99.0.5')).rejects.toMatchObject({ status: 400, code: 'INVALID_MAC' });
    }
    expect(get).not.toHaveBeenCalled();
  });

  it('with http_boot_allow, only those clients (IPv4, IPv4-mapped IPv6, IPv6, CIDRs) get an answer', async () => {
    const s = service(`${on()}\nhttp_boot_allow = 10.99.0.0/24, 127.0.0.1, fd42::/16`);
    await runSteps('provision', s.writeSteps(FILES));
    for (const client of ['10.99.0.5', '::ffff:10.99.0.200', '127.0.0.1', 'fd42:99::5']) {
      expect(await s.httpBootScript(FILES.mac, client)).toBe(MAC_SCRIPT);
    }
    for (const client of ['10.99.1.5', '::ffff:192.168.0.1', '::1', 'fe80::1', undefined]) {
      await expect(s.httpBootScript(FILES.mac, client)).rejects.toMatchObject({
        status: 403,
        code: 'BOOT_CLIENT_NOT_ALLOWED',
      });
    }
  });

  it('a refused client learns nothing about the MAC: 403 comes before the MAC is looked at', async () => {
    const s = service(`${on()}\nhttp_boot_allow = 10.99.0.0/24`);
    await expect(s.httpBootScript('not-a-mac', '192.168.1.1')).rejects.toMatchObject({ status: 403 });
  });
});
