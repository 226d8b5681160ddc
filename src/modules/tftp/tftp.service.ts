import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Step } from '../../common/orchestration/saga';
import { BootFileStore, BootRoot } from './boot-file.store';
import { renderIpxeScript } from './templates/ipxe.template';
import { pxelinuxFileName, renderPxelinuxConfig } from './templates/pxelinux.template';
import { Lease, readLeases } from './leases';

export interface NodeBootFiles {
  node: string;
  /** the MAC of the NIC the node PXE-boots from (any case; files use lower case) */
  mac: string;
  /** the iSCSI target to boot from */
  target: string;
  /** shown in the pxelinux menu: the disk name */
  label: string;
}

/**
 * The node's boot files: `<ipxe root>/<node>.ipxe` (0755) and `<pxelinux.cfg>/01-<mac>` (0644), exactly the
 * original's (reference §3.3). Writing comes as saga steps whose undo puts back what was there before.
 */
@Injectable()
export class TftpService {
  constructor(
    private readonly store: BootFileStore,
    private readonly config: AppConfig,
  ) {}

  ipxeFileName(node: string): string {
    return `${node}.ipxe`;
  }

  render(files: NodeBootFiles): { ipxe: string; pxelinux: string } {
    const { iscsi, tftp } = this.config;
    return {
      ipxe: renderIpxeScript({
        portalIp: iscsi.ip,
        portalPort: iscsi.port,
        lun: iscsi.lun,
        target: files.target,
        iface: tftp.ipxeInterface,
      }),
      pxelinux: renderPxelinuxConfig({ label: files.label, ipxeFile: this.ipxeFileName(files.node) }),
    };
  }

  /** Steps that write both files; each undo restores the previous content (or removes the new file). */
  writeSteps(files: NodeBootFiles): Step[] {
    const content = this.render(files);
    return [
      this.putStep('ipxe', this.ipxeFileName(files.node), content.ipxe, 0o755),
      this.putStep('pxelinux', pxelinuxFileName(files.mac), content.pxelinux, 0o644),
    ];
  }

  /** Steps that remove both files; each undo puts the removed content back. */
  removeSteps(node: string, mac: string): Step[] {
    return [this.removeStep('ipxe', this.ipxeFileName(node)), this.removeStep('pxelinux', pxelinuxFileName(mac))];
  }

  read(root: BootRoot, name: string): Promise<string | null> {
    return this.store.get(root, name);
  }

  leases(): Promise<Lease[]> {
    return readLeases(this.config.tftp.leasesFile);
  }

  private putStep(root: BootRoot, name: string, content: string, mode: number): Step {
    let previous: string | null = null;
    return {
      name: `write ${root} file ${name}`,
      run: async () => {
        previous = await this.store.put(root, name, content, mode);
      },
      undo: async () => {
        if (previous === null) await this.store.remove(root, name);
        else await this.store.put(root, name, previous, mode);
      },
    };
  }

  private removeStep(root: BootRoot, name: string): Step {
    let previous: string | null = null;
    return {
      name: `remove ${root} file ${name}`,
      run: async () => {
        previous = await this.store.remove(root, name);
      },
      undo: async () => {
        if (previous !== null) await this.store.put(root, name, previous, root === 'ipxe' ? 0o755 : 0o644);
      },
    };
  }
}
