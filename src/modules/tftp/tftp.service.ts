import type { BlockList } from 'node:net';
import { Injectable, Logger } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../../config/app-config';
import { addressList, onList } from '../../common/net';
import { SagaActions } from '../../common/orchestration/actions';
import { Step } from '../../common/orchestration/saga';
import { isMac } from '../../common/validation/names';
import { BootFileStore, BootRoot } from './boot-file.store';
import { macScriptFileName, renderChainedIpxeScript, renderIpxeScript } from './templates/ipxe.template';
import { pxelinuxFileName, renderPxelinuxConfig } from './templates/pxelinux.template';
import { Lease, readLeases } from './leases';
import {
  BootClientNotAllowedError,
  BootScriptRateLimitedError,
  HttpBootDisabledError,
  InvalidMacError,
  NotProvisionedError,
} from './tftp.errors';

export interface NodeBootFiles {
  node: string;
  /** the MAC of the NIC the node PXE-boots from (any case; files use lower case) */
  mac: string;
  /** the iSCSI target to boot from */
  target: string;
  /** shown in the pxelinux menu: the disk name */
  label: string;
  /** the initiator name the target lets in, or null/absent for any */
  initiator?: string | null;
  /** the target's CHAP user and secret, or null/absent for none */
  chap?: { user: string; secret: string } | null;
}

/** The target of an iPXE script's `sanboot … iscsi:<ip>:<proto>:<port>:<lun>:<target>` (an IQN may hold ':'). */
const SANBOOT_TARGET = /sanboot\s.*iscsi:[^:\s]*:[^:\s]*:[^:\s]*:[^:\s]*:(\S+)/;

const MODES: Record<BootRoot, number> = { ipxe: 0o755, pxelinux: 0o644, mac: 0o644 };

/**
 * The node's boot files:
 * - `<ipxe root>/<node>.ipxe` (0755) and `<pxelinux.cfg>/01-<mac>` (0644), exactly the original's (reference
 *   §3.3), for BIOS firmware through pxelinux and ipxe.lkrn;
 * - with `[tftp] ipxe_mac_path`, also `<ipxe_mac_path>/<aa-bb-cc-dd-ee-ff>.ipxe` (0644) for clients that are
 *   iPXE already (UEFI through snponly.efi, iPXE ROMs): fetched over TFTP by the name dnsmasq hands out, or
 *   over HTTP from GET /boot/ipxe?mac=… (`[tftp] http_boot`).
 * Writing comes as saga steps whose undo (the action `boot.restore`) puts back what was there before, read
 * before the step under the node's lock; removal removes exactly these files.
 */
@Injectable()
export class TftpService {
  private readonly logger = new Logger(TftpService.name);
  private readonly allow: BlockList | null;
  /** GET /boot/ipxe per client address and minute: probing for provisioned MACs is slow */
  private readonly bootRequests: RateLimiterMemory;

  constructor(
    private readonly store: BootFileStore,
    private readonly config: AppConfig,
    actions: SagaActions,
  ) {
    this.allow = config.tftp.httpBootAllow.length ? addressList(config.tftp.httpBootAllow) : null;
    this.bootRequests = new RateLimiterMemory({ points: config.tftp.httpBootRate, duration: 60 });
    actions.register({
      'boot.restore': ({ root, name, content }) => this.restore(bootRoot(root), String(name), content),
    });
  }

  ipxeFileName(node: string): string {
    return `${node}.ipxe`;
  }

  render(files: NodeBootFiles): { ipxe: string; pxelinux: string; mac: string } {
    const san = this.san(files);
    return {
      ipxe: renderIpxeScript({ ...san, iface: this.config.tftp.ipxeInterface }),
      pxelinux: renderPxelinuxConfig({ label: files.label, ipxeFile: this.ipxeFileName(files.node) }),
      mac: renderChainedIpxeScript(san),
    };
  }

  /**
   * Writes again every iPXE script (`<node>.ipxe` and the per-MAC ones) that boots from `target`, with the
   * initiator name and CHAP credentials given: the target reconciler's part when it gives an older target
   * credentials. Returns how many it wrote.
   */
  async rewriteScripts(target: string, access: Pick<NodeBootFiles, 'initiator' | 'chap'>): Promise<number> {
    const san = this.san({ target, ...access });
    let written = 0;
    for (const root of this.config.tftp.ipxeMacPath ? (['ipxe', 'mac'] as const) : (['ipxe'] as const)) {
      for (const file of await this.store.list(root)) {
        if (!file.endsWith('.ipxe')) continue;
        const script = await this.store.get(root, file);
        if (script === null || SANBOOT_TARGET.exec(script)?.[1] !== target) continue;
        const content =
          root === 'ipxe'
            ? renderIpxeScript({ ...san, iface: this.config.tftp.ipxeInterface })
            : renderChainedIpxeScript(san);
        await this.store.put(root, file, content, MODES[root]);
        written++;
      }
    }
    return written;
  }

  private san(files: Pick<NodeBootFiles, 'target' | 'initiator' | 'chap'>) {
    const { iscsi } = this.config;
    return {
      portalIp: iscsi.ip,
      portalPort: iscsi.port,
      lun: iscsi.lun,
      target: files.target,
      initiator: files.initiator ?? null,
      chap: files.chap ?? null,
    };
  }

  /** Steps that write the node's files; each undo restores the previous content (or removes the new file). */
  writeSteps(files: NodeBootFiles): Promise<Step[]> {
    const content = this.render(files);
    const steps = [
      this.putStep('ipxe', this.ipxeFileName(files.node), content.ipxe),
      this.putStep('pxelinux', pxelinuxFileName(files.mac), content.pxelinux),
    ];
    if (this.config.tftp.ipxeMacPath) steps.push(this.putStep('mac', macScriptFileName(files.mac), content.mac));
    return Promise.all(steps);
  }

  /** Steps that remove the node's files (those writeSteps writes); each undo puts the removed content back. */
  removeSteps(node: string, mac: string): Promise<Step[]> {
    const steps = [
      this.removeStep('ipxe', this.ipxeFileName(node)),
      this.removeStep('pxelinux', pxelinuxFileName(mac)),
    ];
    if (this.config.tftp.ipxeMacPath) steps.push(this.removeStep('mac', macScriptFileName(mac)));
    return Promise.all(steps);
  }

  read(root: BootRoot, name: string): Promise<string | null> {
    return this.store.get(root, name);
  }

  /**
   * The iSCSI target each node's iPXE script boots from (`<node>.ipxe` in the iPXE root), for the reconciler;
   * a script without a sanboot line maps to null.
   */
  async bootTargets(): Promise<{ file: string; target: string | null }[]> {
    const out: { file: string; target: string | null }[] = [];
    for (const file of await this.store.list('ipxe')) {
      if (!file.endsWith('.ipxe')) continue;
      const script = (await this.store.get('ipxe', file)) ?? '';
      out.push({ file, target: SANBOOT_TARGET.exec(script)?.[1] ?? null });
    }
    return out;
  }

  /**
   * What the node's boot files say it boots from: the target of its iPXE script and the disk its pxelinux file
   * names (the label), for the first of `macs` that has one; null when the node has no such files.
   */
  async bootedFrom(node: string, macs: string[]): Promise<{ target: string; disk: string; mac: string } | null> {
    const script = await this.store.get('ipxe', this.ipxeFileName(node));
    const target = script === null ? undefined : SANBOOT_TARGET.exec(script)?.[1];
    if (target === undefined) return null;
    for (const mac of macs) {
      const config = await this.store.get('pxelinux', pxelinuxFileName(mac));
      const disk = config === null ? undefined : /^LABEL (\S+)$/m.exec(config)?.[1];
      if (disk !== undefined) return { target, disk, mac };
    }
    return null;
  }

  /**
   * The script GET /boot/ipxe serves: the per-MAC script of the node provisioned with this MAC, to a client
   * `[tftp] http_boot_allow` lets in. Nothing else is ever read: the MAC becomes one fixed-form file name.
   * Off (404) unless `[tftp] http_boot`; 403 for another client; 400 for a malformed MAC; 404 when no node is
   * provisioned with it.
   */
  async httpBootScript(mac: string, client: string | undefined): Promise<string> {
    const { httpBoot, ipxeMacPath } = this.config.tftp;
    if (!httpBoot || !ipxeMacPath) throw new HttpBootDisabledError('HTTP boot is off ([tftp] http_boot)');
    if (this.allow && !onList(this.allow, client)) {
      this.logger.warn(`refused the boot script of ${String(mac).slice(0, 32)} to ${client ?? 'an unknown client'}`);
      throw new BootClientNotAllowedError(`${client ?? 'this client'} may not fetch boot scripts`);
    }
    await this.bootRequests.consume(client ?? 'unknown').catch((res: unknown) => {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new BootScriptRateLimitedError(`too many boot script requests: try again in ${seconds} s`, seconds);
    });
    const normalized = typeof mac === 'string' ? mac.replace(/-/g, ':').toLowerCase() : '';
    if (!isMac(normalized)) throw new InvalidMacError('mac must be a MAC address such as 52:54:00:12:34:56');
    const script = await this.store.get('mac', macScriptFileName(normalized));
    if (script === null) throw new NotProvisionedError(`No node is provisioned with MAC ${normalized}`);
    this.logger.debug(`served the boot script of ${normalized} to ${client}`);
    return script;
  }

  leases(): Promise<Lease[]> {
    return readLeases(this.config.tftp.leasesFile);
  }

  private async putStep(root: BootRoot, name: string, content: string): Promise<Step> {
    const previous = await this.store.get(root, name);
    return {
      name: `write ${root} file ${name}`,
      run: async () => void (await this.store.put(root, name, content, MODES[root])),
      undo: { type: 'boot.restore', args: { root, name, content: previous } },
    };
  }

  private async removeStep(root: BootRoot, name: string): Promise<Step> {
    const previous = await this.store.get(root, name);
    return {
      name: `remove ${root} file ${name}`,
      run: async () => void (await this.store.remove(root, name)),
      undo: { type: 'boot.restore', args: { root, name, content: previous } },
    };
  }

  /** Puts a file back as it was: with `content`, or absent when it was null. */
  private async restore(root: BootRoot, name: string, content: unknown): Promise<void> {
    if (typeof content === 'string') await this.store.put(root, name, content, MODES[root]);
    else await this.store.remove(root, name);
  }
}

function bootRoot(v: unknown): BootRoot {
  if (v !== 'ipxe' && v !== 'pxelinux' && v !== 'mac') throw new Error(`unknown boot root ${String(v)}`);
  return v;
}
