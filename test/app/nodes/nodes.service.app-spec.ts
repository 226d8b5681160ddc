import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { ProjectScope } from '../../../src/modules/access/access-level';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { ADMIN, ALICE, BOB, startTestApp, TestApp } from '../../utils/test-app';
import { HilSeed } from '../../../src/modules/hil/hil-directory';
import {
  HilAuthenticationError,
  HilNodeNotFoundError,
  NicNotFoundError,
  NodeNotOwnedError,
} from '../../../src/modules/hil/hil.errors';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImageNotFoundError, WrongImageKindError } from '../../../src/modules/images/images.errors';
import { ImagesService } from '../../../src/modules/images/images.service';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { BootFileStore } from '../../../src/modules/tftp/boot-file.store';
import { NodesService } from '../../../src/modules/nodes/nodes.service';

/** NodesService with the real boot files (temp dir), DB and in-memory pool, targets and HIL. */

const SEED: HilSeed = {
  users: {
    admin: { password: 'admin', is_admin: true, projects: [] },
    alice: { password: 'alicepass', projects: ['proj1'] },
    bob: { password: 'bobpass', projects: ['proj2'] },
  },
  projects: ['proj1', 'proj2'],
  nodes: {
    'node-01': {
      project: 'proj1',
      nics: [
        { label: 'eth0', macaddr: '52:54:00:12:34:56' },
        { label: 'eth1', macaddr: '52:54:00:aB:cD:Ef' },
      ],
    },
    'node-02': { project: null, nics: [{ label: 'eth0', macaddr: '52:54:00:AA:BB:CC' }] },
    'node-03': { project: 'proj2', nics: [{ label: 'eth0', macaddr: '52:54:00:00:00:03' }] },
    'node-bad': { project: 'proj1', nics: [{ label: 'eth0', macaddr: '52:54:00:12:34' }] },
  },
};

let alice: ProjectScope;
let admin: ProjectScope;

let t: TestApp;
let nodes: NodesService;
let store: BootFileStore;
let target: string;

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  t = await startTestApp({ fakeImages: ['bmi_test'], hilSeed: SEED });
  nodes = t.app.get(NodesService);
  store = t.app.get(BootFileStore);
  const projects = t.app.get(ProjectsService);
  await projects.add('proj1');
  await projects.add('proj2');
  alice = await t.scope(ALICE, 'proj1');
  admin = await t.scope(ADMIN, 'proj1', 'admin');
  await t.app.get(ImagesService).importImage(admin, 'bmi_test');
  target = await t.app.get(DisksService).createDisk(alice, 'disk1', 'bmi_test');
});
afterEach(async () => {
  jest.restoreAllMocks();
  await t.close();
});

/** Every file under the TFTP root with its content and mode. */
function bootFiles(dir = t.tftpRoot, root = dir): Record<string, { content: string; mode: number }> {
  const out: Record<string, { content: string; mode: number }> = {};
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, bootFiles(p, root));
    else out[path.relative(root, p)] = { content: readFileSync(p, 'utf8'), mode: statSync(p).mode & 0o777 };
  }
  return out;
}

const ipxe = (tgt: string) =>
  `#!ipxe\n      set keep-san 1\n      ifconf --configurator=dhcp net2\n      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:${tgt}\n      boot`;
const pxe = (label: string, node: string) =>
  `DEFAULT menu\n  PROMPT 0\n  MENU TITLE PXE Menu\n  TIMEOUT 30\n  ONTIMEOUT ${label}\n\n\nLABEL ${label}\n     MENU LABEL ${label}\n     KERNEL ipxe.lkrn\n     INITRD ${node}.ipxe`;

describe('NodesService.provision', () => {
  it('writes <node>.ipxe (0755) and pxelinux.cfg/01-<lower-case mac> (0644), exactly the original’s files', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth1');
    expect(bootFiles()).toEqual({
      'node-01.ipxe': { content: ipxe(target), mode: 0o755 },
      'pxelinux.cfg/01-52-54-00-ab-cd-ef': { content: pxe('disk1', 'node-01'), mode: 0o644 },
    });
  });

  it('provisioning again onto another disk replaces the files', async () => {
    const target2 = await t.app.get(DisksService).createDisk(alice, 'disk2', 'bmi_test');
    await nodes.provision(alice, 'node-01', 'disk1', 'eth0');
    await nodes.provision(alice, 'node-01', 'disk2', 'eth0');
    expect(bootFiles()).toEqual({
      'node-01.ipxe': { content: ipxe(target2), mode: 0o755 },
      'pxelinux.cfg/01-52-54-00-12-34-56': { content: pxe('disk2', 'node-01'), mode: 0o644 },
    });
  });

  it('when writing the second file fails, the first is removed and the error reported', async () => {
    const put = store.put.bind(store);
    const boom = new Error('disk full');
    jest.spyOn(store, 'put').mockImplementation(async (root, name, content, mode) => {
      if (root === 'pxelinux') throw boom;
      return put(root, name, content, mode);
    });
    await expect(nodes.provision(alice, 'node-01', 'disk1', 'eth0')).rejects.toBe(boom);
    expect(bootFiles()).toEqual({});
  });

  it('when re-provisioning fails at the second file, the first gets its previous content back', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth0');
    const before = bootFiles();
    const target2 = await t.app.get(DisksService).createDisk(alice, 'disk2', 'bmi_test');
    expect(target2).not.toBe(target);
    const put = store.put.bind(store);
    jest.spyOn(store, 'put').mockImplementation(async (root, name, content, mode) => {
      if (root === 'pxelinux') throw new Error('disk full');
      return put(root, name, content, mode);
    });
    await expect(nodes.provision(alice, 'node-01', 'disk2', 'eth0')).rejects.toThrow('disk full');
    expect(bootFiles()).toEqual(before);
  });

  it('refuses a free node (403): it must belong to the project; nothing written', async () => {
    await expect(nodes.provision(alice, 'node-02', 'disk1', 'eth0')).rejects.toThrow(NodeNotOwnedError);
    expect(bootFiles()).toEqual({});
  });

  it('refuses another project’s node (HIL 401 for a non-member, 403 for an admin acting for this project)', async () => {
    await expect(nodes.provision(alice, 'node-03', 'disk1', 'eth0')).rejects.toThrow(HilAuthenticationError);
    await expect(nodes.provision(admin, 'node-03', 'disk1', 'eth0')).rejects.toThrow(NodeNotOwnedError);
    expect(bootFiles()).toEqual({});
  });

  it('an unknown NIC is 404 naming the NIC and node; an unknown node is 404', async () => {
    await expect(nodes.provision(alice, 'node-01', 'disk1', 'eth9')).rejects.toThrow(
      new NicNotFoundError('node-01', 'eth9'),
    );
    await expect(nodes.provision(alice, 'nope', 'disk1', 'eth0')).rejects.toThrow(HilNodeNotFoundError);
    expect(bootFiles()).toEqual({});
  });

  it('a MAC from HIL that is not a MAC is refused (502) before any file is named after it', async () => {
    await expect(nodes.provision(alice, 'node-bad', 'disk1', 'eth0')).rejects.toMatchObject({
      status: 502,
      code: 'HIL_BAD_MAC',
    });
    expect(bootFiles()).toEqual({});
  });

  it('an unknown disk is 404; a golden image is not a disk (400)', async () => {
    await expect(nodes.provision(alice, 'node-01', 'nope', 'eth0')).rejects.toThrow(ImageNotFoundError);
    await expect(nodes.provision(alice, 'node-01', 'bmi_test', 'eth0')).rejects.toThrow(WrongImageKindError);
    expect(bootFiles()).toEqual({});
  });

  it('a disk recorded as not exported (umount_image) is refused (409): the node could not boot from it', async () => {
    await t.app.get(DisksService).umountImage(admin, 'disk1');
    await expect(nodes.provision(alice, 'node-01', 'disk1', 'eth0')).rejects.toMatchObject({
      status: 409,
      code: 'DISK_NOT_EXPORTED',
    });
    expect(bootFiles()).toEqual({});
  });
});

describe('NodesService.deprovision', () => {
  it('removes both files and leaves the disk, its clone and its target', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth1');
    await nodes.deprovision(alice, 'node-01', 'eth1');
    expect(bootFiles()).toEqual({});
    expect(await t.iscsi.listTargets()).toEqual([{ name: target, image: target }]);
    expect(await t.storage.imageExists(target)).toBe(true);
  });

  it('files that are already gone are fine', async () => {
    await expect(nodes.deprovision(alice, 'node-01', 'eth0')).resolves.toBeUndefined();
  });

  it('removes only this node’s files', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth0');
    await store.put('ipxe', 'other.ipxe', 'x', 0o755);
    await store.put('pxelinux', '01-52-54-00-12-34-99', 'y', 0o644);
    await nodes.deprovision(alice, 'node-01', 'eth0');
    expect(Object.keys(bootFiles()).sort()).toEqual(['other.ipxe', 'pxelinux.cfg/01-52-54-00-12-34-99']);
  });

  it('when removing the second file fails, the first is put back', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth0');
    const before = bootFiles();
    const remove = store.remove.bind(store);
    jest.spyOn(store, 'remove').mockImplementation(async (root, name) => {
      if (root === 'pxelinux') throw new Error('read-only file system');
      return remove(root, name);
    });
    await expect(nodes.deprovision(alice, 'node-01', 'eth0')).rejects.toThrow('read-only file system');
    expect(bootFiles()).toEqual(before);
  });

  it('refuses a node of another project or a free node, removing nothing', async () => {
    await nodes.provision(alice, 'node-01', 'disk1', 'eth0');
    const before = bootFiles();
    await expect(nodes.deprovision(alice, 'node-02', 'eth0')).rejects.toThrow(NodeNotOwnedError);
    await expect(nodes.deprovision(await t.scope(BOB, 'proj2'), 'node-01', 'eth0')).rejects.toThrow(
      HilAuthenticationError,
    );
    expect(bootFiles()).toEqual(before);
  });
});

describe('NodesService.nodeIp', () => {
  const leases = () => t.config.tftp.leasesFile;

  it('gives the newest lease of the node’s NIC, matching the MAC in any case', async () => {
    writeFileSync(
      leases(),
      [
        '1700000000 52:54:00:AB:CD:EF 10.0.0.5 node-01 *',
        '1700000500 52:54:00:ab:cd:ef 10.0.0.6 node-01 *',
        '1700000900 52:54:00:12:34:56 10.0.0.7 node-01 *',
        'duid 00:01:00:01',
      ].join('\n'),
    );
    expect(await nodes.nodeIp(alice, 'node-01', 'eth1')).toBe('10.0.0.6');
    expect(await nodes.nodeIp(alice, 'node-01')).toBe('10.0.0.7');
  });

  it('no lease is 404 "<mac> Has Not Been Assigned An IP Yet"', async () => {
    writeFileSync(leases(), '1700000000 52:54:00:99:99:99 10.0.0.5 other *\n');
    const err = await nodes.nodeIp(alice, 'node-01', 'eth1').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, message: '52:54:00:ab:cd:ef Has Not Been Assigned An IP Yet' });
  });

  it('no leases file yet is the same 404', async () => {
    await expect(nodes.nodeIp(alice, 'node-01', 'eth0')).rejects.toMatchObject({ status: 404, code: 'NO_LEASE' });
  });

  it('only for the project’s own nodes', async () => {
    await expect(nodes.nodeIp(alice, 'node-02')).rejects.toThrow(NodeNotOwnedError);
  });
});

describe('NodesService with per-MAC iPXE scripts (UEFI / HTTP boot)', () => {
  const chained = (tgt: string, initiator?: string) =>
    `#!ipxe\n      set keep-san 1\n${initiator ? `      set initiator-iqn ${initiator}\n` : ''}      sanboot --keep iscsi:10.0.0.1:tcp:3260:1:${tgt}\n      boot`;
  let m: TestApp;
  let mNodes: NodesService;
  let mTarget: string;

  async function start(extra: string[]): Promise<void> {
    m = await startTestApp({
      fakeImages: ['bmi_test'],
      hilSeed: SEED,
      extraIni: ['[tftp]', 'ipxe_mac_path = %(ipxe_path)s/mac', 'http_boot = true', ...extra],
    });
    mNodes = m.app.get(NodesService);
    await m.app.get(ProjectsService).add('proj1');
    await m.app.get(ImagesService).importImage(admin, 'bmi_test');
    mTarget = await m.app.get(DisksService).createDisk(alice, 'disk1', 'bmi_test');
  }
  afterEach(async () => {
    await m?.close();
  });

  it('provision writes the per-MAC script too; deprovision removes exactly the three files', async () => {
    await start([]);
    await mNodes.provision(alice, 'node-01', 'disk1', 'eth1');
    expect(bootFiles(m.tftpRoot)).toEqual({
      'node-01.ipxe': { content: ipxe(mTarget), mode: 0o755 },
      'pxelinux.cfg/01-52-54-00-ab-cd-ef': { content: pxe('disk1', 'node-01'), mode: 0o644 },
      'mac/52-54-00-ab-cd-ef.ipxe': { content: chained(mTarget), mode: 0o644 },
    });
    expect(await mNodes.bootScript('52:54:00:AB:CD:EF', '10.0.0.9')).toBe(chained(mTarget));
    await mNodes.deprovision(alice, 'node-01', 'eth1');
    expect(bootFiles(m.tftpRoot)).toEqual({});
    await expect(mNodes.bootScript('52:54:00:ab:cd:ef', '10.0.0.9')).rejects.toMatchObject({ status: 404 });
  });

  it('with an initiator ACL, both scripts log in with the name the target lets in', async () => {
    await start(['[iscsi]', 'target_prefix = iqn.2026-11.org.bmi:', 'initiator_acl = true']);
    await mNodes.provision(alice, 'node-01', 'disk1', 'eth0');
    const initiator = `${mTarget}:initiator`;
    expect(mTarget).toMatch(/^iqn\.2026-11\.org\.bmi:5img\d+$/);
    expect(await m.iscsi.listTargets()).toEqual([
      { name: mTarget, image: expect.any(String), initiators: [initiator] },
    ]);
    const files = bootFiles(m.tftpRoot);
    expect(files['node-01.ipxe'].content).toContain(`\n      set initiator-iqn ${initiator}\n`);
    expect(files['mac/52-54-00-12-34-56.ipxe'].content).toBe(chained(mTarget, initiator));
  });
});
