import { Injectable } from '@nestjs/common';
import { exclusive, lockKey, OperationLocks } from '../../common/concurrency/locks';
import { isMac, isSafeName } from '../../common/validation/names';
import { ValidationFailedError } from '../../common/http/validation';
import type { ProjectScope } from '../access/access-level';
import { DisksService } from '../images/disks.service';
import { ImageCatalog } from '../images/image-catalog';
import { ImageNotFoundError } from '../images/images.errors';
import { withBmiNames } from '../images/name-rewrite';
import { IscsiService } from '../iscsi/iscsi.service';
import { Sagas } from '../operations/sagas';
import { NodeInUseError } from './nodes.errors';
import { NicNotFoundError } from '../hil/hil.errors';
import { NodesService } from './nodes.service';

export interface DeployRequest {
  /** the golden image or snapshot to clone */
  image: string;
  /** the new disk's name; default: the node's */
  disk?: string;
  /** the NIC it PXE-boots from; default: its first NIC with a MAC */
  nic?: string;
}

/** A node as a deployment: its disk, what that was cloned from, and whether the node is on it right now. */
export interface Deployment {
  node: string;
  disk: string;
  image: string;
  nic: string;
  target: string;
  /** an initiator is logged in to the disk's target: the node has booted from it (and is still up) */
  attached: boolean;
  /** the address DHCP leased to the NIC, when it has one */
  ip: string | null;
}

/**
 * A node from nothing to booting, and back, each as one journaled operation: deploy makes its disk (a clone of
 * an image, exported with its own CHAP account), writes its boot files and power-cycles it; release powers it
 * off, removes its boot files and deletes the disk. A failure before the power step undoes the rest; a crash
 * anywhere is recovered like any operation (rolled back, or the disk's removal completed).
 */
@Injectable()
export class DeploymentsService {
  constructor(
    private readonly sagas: Sagas,
    private readonly locks: OperationLocks,
    private readonly catalog: ImageCatalog,
    private readonly disks: DisksService,
    private readonly nodes: NodesService,
    private readonly iscsi: IscsiService,
  ) {}

  async deploy(scope: ProjectScope, node: string, req: DeployRequest): Promise<void> {
    const diskName = req.disk ?? node;
    if (!isSafeName(diskName)) {
      throw new ValidationFailedError({ disk: `node ${node} makes no disk name: give one` });
    }
    const owned = await scope.ownedNode(node);
    const nic = req.nic ?? owned.nics.find((n) => isMac(n.macaddr))?.label;
    if (nic === undefined) throw new ValidationFailedError({ nic: `node ${node} has no NIC with a MAC` });
    // what would only fail at the end, after the clone: a NIC it does not have, a power it cannot switch
    // (no BMC, OBM off); asked before anything is made
    if (!owned.nics.some((n) => n.label === nic)) throw new NicNotFoundError(node, nic);
    await this.nodes.powerStatus(scope, node);
    const locks = [...this.disks.newDiskLocks(scope, req.image, diskName), exclusive(lockKey.node(node))];
    return this.locks.run(locks, async () => {
      const booted = (await this.nodes.findBootState(scope, node))?.disk;
      if (booted !== undefined) throw new NodeInUseError(`Node ${node} boots from disk ${booted}: release it first`);
      const source = await this.disks.newDiskSource(scope, req.image, diskName);
      await this.disks.withSourceName(source, req.image, () =>
        this.sagas.of(scope, { node, disk: diskName, image: req.image, nic }).run('deploy', async (s) => {
          const row = await this.disks.makeDisk(s, scope, source, diskName);
          const ceph = this.catalog.cephName(row);
          for (const step of await this.nodes.bootFileSteps(scope, node, diskName, ceph, nic)) await s.step(step);
          await s.step(this.nodes.powerStep(scope, node, 'cycle'));
        }),
      );
    });
  }

  /** Powers the node off, removes its boot files and deletes the disk it booted from. */
  async release(scope: ProjectScope, node: string): Promise<void> {
    const { project } = scope;
    const state = await this.nodes.bootState(scope, node);
    const locks = [exclusive(lockKey.node(node)), exclusive(lockKey.image(project.id, state.disk))];
    return this.locks.run(locks, async () => {
      // read again under the locks: the node may have been released or moved meanwhile
      const { disk, nic } = await this.nodes.bootState(scope, node);
      if (disk !== state.disk) throw new NodeInUseError(`Node ${node} changed disks meanwhile; try again`);
      const row = await this.catalog.find(project.id, disk);
      if (row && this.catalog.kind(row) === 'disk') await this.disks.assertRemovable(row);
      const ceph = row ? this.catalog.cephName(row) : undefined;
      await withBmiNames(ceph ? { [ceph]: disk } : {}, () =>
        this.sagas.of(scope, { node, disk, nic }).run('release', async (s) => {
          await s.step(this.nodes.powerStep(scope, node, 'off'));
          for (const step of await this.nodes.removeFileSteps(scope, node, nic)) await s.step(step);
          // boot files naming a disk that is gone (or an image that is not a disk) leave nothing else to do
          if (row && this.catalog.kind(row) === 'disk') await this.disks.removeDisk(s, row);
        }),
      );
    });
  }

  /** The node's deployment: what it boots from, and whether it is logged in to that disk now. */
  async deployment(scope: ProjectScope, node: string): Promise<Deployment> {
    const state = await this.nodes.bootState(scope, node);
    const row = await this.catalog.find(scope.project.id, state.disk);
    if (!row) throw new ImageNotFoundError(state.disk);
    const ceph = this.catalog.cephName(row);
    // tgtd's listing, the one place that knows who is logged in
    const target = (await this.iscsi.list()).find((t) => t.image === ceph);
    const parent = await this.catalog.byId(row.parentId);
    let ip: string | null = null;
    try {
      ip = await this.nodes.nodeIp(scope, node, state.nic);
    } catch {
      // no lease yet
    }
    return {
      node,
      disk: state.disk,
      image: parent?.name ?? '',
      nic: state.nic,
      target: state.target,
      attached: (target?.sessions ?? 0) > 0,
      ip,
    };
  }
}
