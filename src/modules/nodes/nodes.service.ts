import { Injectable } from '@nestjs/common';
import { Sagas } from '../operations/sagas';
import { exclusive, lockKey, OperationLocks, LockedCheck, shared } from '../../common/concurrency/locks';
import { isMac } from '../../common/validation/names';
import type { ProjectScope } from '../access/access-level';
import { HilClient, HilNode } from '../hil/hil.client';
import { SagaActions } from '../../common/orchestration/actions';
import type { Step } from '../../common/orchestration/saga';
import type { PowerAction, PowerState } from '../power/power.driver';
import { NicNotFoundError } from '../hil/hil.errors';
import { ImageCatalog } from '../images/image-catalog';
import { WrongImageKindError } from '../images/images.errors';
import { IscsiService } from '../iscsi/iscsi.service';
import { TftpService } from '../tftp/tftp.service';
import { NotProvisionedError } from '../tftp/tftp.errors';
import { BadMacError, DiskNotExportedError, NoLeaseError } from './nodes.errors';

/** What a provisioned node boots from. */
export interface BootState {
  node: string;
  disk: string;
  nic: string;
  mac: string;
  /** the iSCSI target its iPXE script boots from */
  target: string;
}

/**
 * Nodes: pointing a node's PXE boot at a disk (provision) and back (deprovision), and finding a node's IP.
 * Only nodes that HIL says belong to the caller's project are touched.
 */
@Injectable()
export class NodesService {
  constructor(
    private readonly sagas: Sagas,
    private readonly locks: OperationLocks,
    private readonly catalog: ImageCatalog,
    private readonly iscsi: IscsiService,
    private readonly tftp: TftpService,
    private readonly hil: HilClient,
    actions: SagaActions,
  ) {
    // the undo of a power step: nothing can be undone (see powerStep)
    actions.register({ 'power.unchanged': async () => undefined });
  }

  /**
   * Writes the node's iPXE script and its per-MAC pxelinux file (§3.3), and its per-MAC iPXE script when
   * `[tftp] ipxe_mac_path` is set, so that the node's next PXE boot comes up on the disk. The disk must exist
   * and be exported; all the files are written or none is.
   */
  async provision(
    scope: ProjectScope,
    node: string,
    diskName: string,
    nic: string,
    check?: LockedCheck,
  ): Promise<void> {
    const { project } = scope;
    return this.locks.run([exclusive(lockKey.node(node)), shared(lockKey.image(project.id, diskName))], async () => {
      await check?.();
      const disk = await this.catalog.require(project, diskName);
      if (this.catalog.kind(disk) !== 'disk') {
        throw new WrongImageKindError(`${diskName} is not a disk: make one with create_disk first`);
      }
      // the row says (no listing of tgtd's targets): a target lost to a tgtd restart is the target reconciler's
      if (!disk.exported) {
        throw new DiskNotExportedError(`${diskName} is not exported over iSCSI; delete and create the disk again`);
      }
      const steps = await this.bootFileSteps(scope, node, diskName, this.catalog.cephName(disk), nic);
      await this.sagas.of(scope, { node, disk: diskName, nic }).run('provision', async (s) => {
        for (const step of steps) await s.step(step);
      });
    });
  }

  /** The steps that write the boot files of `node` for the exported disk `diskName` (RBD image `ceph`). */
  async bootFileSteps(scope: ProjectScope, node: string, diskName: string, ceph: string, nic: string): Promise<Step[]> {
    const mac = macOf(await scope.ownedNode(node), nic);
    return this.tftp.writeSteps({
      node,
      mac,
      target: this.iscsi.targetName(ceph),
      label: diskName,
      ...(await this.iscsi.accessFor(ceph)),
    });
  }

  /** The steps that remove the boot files of `node` for the NIC `nic`. */
  async removeFileSteps(scope: ProjectScope, node: string, nic: string): Promise<Step[]> {
    return this.tftp.removeSteps(node, macOf(await scope.ownedNode(node), nic));
  }

  /** Switches the node's power: through HIL (which checks the caller again), or BMI's power driver without one. */
  async power(scope: ProjectScope, node: string, action: PowerAction): Promise<void> {
    await scope.ownedNode(node);
    await this.hil.power(scope.caller.credentials, node, action);
  }

  async powerStatus(scope: ProjectScope, node: string): Promise<PowerState> {
    await scope.ownedNode(node);
    return this.hil.powerStatus(scope.caller.credentials, node);
  }

  /**
   * A power request as a step of an operation. Power cannot be taken back: undoing the step leaves the node as
   * it is (`power.unchanged`). A node cycled by an operation that is then rolled back PXE-boots into no boot
   * files, and stops there.
   */
  powerStep(scope: ProjectScope, node: string, action: PowerAction): Step {
    return {
      name: `power ${action} ${node}`,
      run: () => this.hil.power(scope.caller.credentials, node, action),
      undo: { type: 'power.unchanged', args: { node } },
    };
  }

  /**
   * What the node boots from, read from its boot files: the disk (the pxelinux label of one of its NICs' MACs)
   * and the target (the node's iPXE script). 404 when the node has no iPXE script or none of its NICs a
   * pxelinux file.
   */
  async bootState(scope: ProjectScope, node: string): Promise<BootState> {
    const state = await this.findBootState(scope, node);
    if (!state) throw new NotProvisionedError(`Node ${node} is not provisioned`);
    return state;
  }

  /** The boot state, or null when the node is not provisioned. */
  async findBootState(scope: ProjectScope, node: string): Promise<BootState | null> {
    const owned = await scope.ownedNode(node);
    const nics = owned.nics.filter((n) => isMac(n.macaddr));
    const found = await this.tftp.bootedFrom(
      node,
      nics.map((n) => n.macaddr.toLowerCase()),
    );
    if (!found) return null;
    const nic = nics.find((n) => n.macaddr.toLowerCase() === found.mac)?.label ?? '';
    return { node, nic, ...found };
  }

  /** Removes exactly the files provision wrote; a file that is already gone is fine. The disk stays. */
  async deprovision(scope: ProjectScope, node: string, nic: string, check?: LockedCheck): Promise<void> {
    return this.locks.run([exclusive(lockKey.node(node))], async () => {
      await check?.();
      const steps = await this.removeFileSteps(scope, node, nic);
      await this.sagas.of(scope, { node, nic }).run('deprovision', async (s) => {
        for (const step of steps) await s.step(step);
      });
    });
  }

  /**
   * The iPXE script of the node provisioned with this MAC, for GET /boot/ipxe: unauthenticated (a booting node
   * has no credentials), so it reveals only what TFTP already serves on the provisioning network, and only
   * while the node is provisioned. See TftpService.httpBootScript for the checks.
   */
  bootScript(mac: string, client: string | undefined): Promise<string> {
    return this.tftp.httpBootScript(mac, client);
  }

  /** The IP dnsmasq leased to one of the node's NICs (the given one, or any). */
  async nodeIp(scope: ProjectScope, node: string, nic?: string): Promise<string> {
    const hilNode = await scope.ownedNode(node);
    const macs = nic
      ? [macOf(hilNode, nic)]
      : hilNode.nics.filter((n) => isMac(n.macaddr)).map((n) => n.macaddr.toLowerCase());
    const leases = await this.tftp.leases();
    const lease = leases.filter((l) => macs.includes(l.mac)).sort((a, b) => b.expires - a.expires)[0];
    if (!lease) throw new NoLeaseError(`${macs.join(', ') || node} Has Not Been Assigned An IP Yet`);
    return lease.ip;
  }
}

/** The MAC of the NIC with this label, lower-cased (HIL keeps the case it was given; pxelinux wants lower). */
function macOf(node: HilNode, label: string): string {
  const nic = node.nics.find((n) => n.label === label);
  if (!nic) throw new NicNotFoundError(node.name, label);
  if (!isMac(nic.macaddr))
    throw new BadMacError(`HIL gave NIC ${label} of ${node.name} an invalid MAC "${nic.macaddr}"`);
  return nic.macaddr.toLowerCase();
}
