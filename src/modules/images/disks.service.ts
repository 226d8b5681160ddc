import { Injectable } from '@nestjs/common';
import { Sagas } from '../operations/sagas';
import { AppConfig } from '../../config/app-config';
import { exclusive, lockKey, LockRequest, OperationLocks, LockedCheck, shared } from '../../common/concurrency/locks';
import type { Saga } from '../../common/orchestration/saga';
import type { ProjectScope } from '../access/access-level';
import { IscsiEndpoint, IscsiService } from '../iscsi/iscsi.service';
import type { IscsiTarget } from '../iscsi/iscsi-target.driver';
import { TargetExistsError, TargetNotFoundError } from '../iscsi/iscsi.errors';
import { ImageCatalog } from './image-catalog';
import { DiskExistsError, ImageNotFoundError, WrongImageKindError } from './images.errors';
import { ImageEntity } from './image.entity';
import { RbdImageHasSnapshotsError } from './storage/storage.errors';
import { StorageSteps } from './storage/storage-steps';
import { withBmiNames } from './name-rewrite';

/** A disk as /v1 shows it: the image it was cloned from and where initiators find its iSCSI target. */
export interface DiskView {
  name: string;
  image: string;
  exported: boolean;
  iscsi: IscsiEndpoint;
}

/**
 * Disks: copy-on-write clones of a golden image or snapshot, each exported as an iSCSI target that a node
 * boots from (the split API of reference §3.1-3.2), and the admin's direct iSCSI mounts.
 */
@Injectable()
export class DisksService {
  constructor(
    private readonly sagas: Sagas,
    private readonly locks: OperationLocks,
    private readonly catalog: ImageCatalog,
    private readonly steps: StorageSteps,
    private readonly iscsi: IscsiService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Row, clone, target; any failure undoes what was done and is reported (the original returned 200 and
   * leaked, §8 #1). Returns the iSCSI target name (the original's `"<uid>img<id>"`).
   */
  async createDisk(scope: ProjectScope, diskName: string, imageName: string): Promise<string> {
    return this.locks.run(this.newDiskLocks(scope, imageName, diskName), async () => {
      const source = await this.newDiskSource(scope, imageName, diskName);
      return this.withSourceName(source, imageName, () =>
        this.sagas.of(scope, { disk: diskName, image: imageName }).run('create_disk', async (s) => {
          const row = await this.makeDisk(s, scope, source, diskName);
          return this.iscsi.targetName(this.catalog.cephName(row));
        }),
      );
    });
  }

  /** The locks a new disk is made under: its name, and the image it is cloned from (kept from removal). */
  newDiskLocks(scope: ProjectScope, imageName: string, diskName: string): LockRequest[] {
    const { project } = scope;
    return [
      shared(lockKey.project(project.name)),
      shared(lockKey.image(project.id, imageName)),
      exclusive(lockKey.image(project.id, diskName)),
    ];
  }

  /** The image a new disk is cloned from, under newDiskLocks: a golden image or a snapshot; the name free. */
  async newDiskSource(scope: ProjectScope, imageName: string, diskName: string): Promise<ImageEntity> {
    const { project } = scope;
    const source = await this.catalog.require(project, imageName);
    if (this.catalog.kind(source) === 'disk') {
      throw new WrongImageKindError(`${imageName} is a disk: create a snapshot of it and make disks from that`);
    }
    const existing = await this.catalog.find(project.id, diskName);
    if (existing) throw new DiskExistsError(this.iscsi.targetName(this.catalog.cephName(existing)));
    return source;
  }

  /** Runs `work` with errors naming the source's Ceph image by its BMI name. */
  withSourceName<T>(source: ImageEntity, imageName: string, work: () => Promise<T>): Promise<T> {
    return withBmiNames({ [this.catalog.cephName(source)]: imageName }, work);
  }

  /** The steps of a new disk within an operation: its row, the clone, its target, the row marked exported. */
  async makeDisk(s: Saga, scope: ProjectScope, source: ImageEntity, diskName: string): Promise<ImageEntity> {
    const { project } = scope;
    const row = await this.catalog.reserve(
      s,
      // marked exported only once its target exists: the target reconciler never exports a half-made disk
      { name: diskName, projectId: project.id, parentId: source.id, isSnapshot: false, isPublic: false },
      project.name,
    );
    const ceph = this.catalog.cephName(row);
    await s.step(this.steps.clone(this.catalog.cephName(source), this.config.bmi.snapshot, ceph));
    await s.step(this.iscsi.exportStep(ceph));
    await s.step(this.catalog.exportedStep(row, true));
    return row;
  }

  /** The project's disks. */
  async diskViews(scope: ProjectScope): Promise<DiskView[]> {
    return (await this.catalog.listProject(scope.project.id))
      .filter((r) => this.catalog.kind(r) === 'disk')
      .map((r) => this.view(r, r.parentName));
  }

  /** One disk of the project; an image's name is not a disk's (404). */
  async diskView(scope: ProjectScope, name: string): Promise<DiskView> {
    const row = await this.catalog.require(scope.project, name);
    if (this.catalog.kind(row) !== 'disk') throw new ImageNotFoundError(name);
    return this.view(row, (await this.catalog.byId(row.parentId))?.name ?? '');
  }

  /** Where initiators find the iSCSI target of one of the project's images (its name and portal). */
  async endpointOf(scope: ProjectScope, name: string): Promise<IscsiEndpoint> {
    return this.iscsi.endpoint(this.catalog.cephName(await this.catalog.require(scope.project, name)));
  }

  private view(r: ImageEntity, image: string): DiskView {
    return { name: r.name, image, exported: r.exported, iscsi: this.iscsi.endpoint(this.catalog.cephName(r)) };
  }

  /**
   * Target, row, clone, in that order: the irreversible Ceph removal comes last, and if it fails the row and
   * the target are put back (the original left them disagreeing, §8 #2). A disk whose target or clone is
   * already gone is still deleted.
   */
  async deleteDisk(scope: ProjectScope, diskName: string, check?: LockedCheck): Promise<void> {
    const { project } = scope;
    return this.locks.run([exclusive(lockKey.image(project.id, diskName))], async () => {
      await check?.();
      const row = await this.catalog.require(project, diskName);
      if (this.catalog.kind(row) !== 'disk') {
        throw new WrongImageKindError(`${diskName} is not a disk: use remove_image to remove it`);
      }
      await this.assertRemovable(row);
      const ceph = this.catalog.cephName(row);
      await withBmiNames({ [ceph]: diskName }, () =>
        this.sagas.of(scope, { disk: diskName }).run('delete_disk', (s) => this.removeDisk(s, row)),
      );
    });
  }

  /**
   * Refuses a disk with snapshots of its own (librbd would refuse its removal): looked for before anything is
   * touched, so that a refused delete neither drops the target of a booted node for a moment nor leaves
   * recovery an irreversible removal it could never complete. One listing, one open of the image. BMI's own
   * snapshot, left by an interrupted snapshot of an older BMI, goes with the disk (removeImage).
   */
  async assertRemovable(row: ImageEntity): Promise<void> {
    const snaps = await this.steps.snapshots(this.catalog.cephName(row));
    if (snaps.some((x) => x.name !== this.config.bmi.snapshot)) throw RbdImageHasSnapshotsError.of(row.name);
  }

  /**
   * The steps that remove a disk within an operation: target, row, clone, in that order: the irreversible Ceph
   * removal comes last, and if it fails the row and the target are put back.
   */
  async removeDisk(s: Saga, row: ImageEntity): Promise<void> {
    const ceph = this.catalog.cephName(row);
    await s.step(this.iscsi.unexportStep(ceph));
    await s.step(await this.catalog.deleteStep(row));
    await s.step(this.steps.removeImage(ceph));
  }

  /**
   * Exports an image over iSCSI (admin, `bmi iscsi create`) and records it, so that the target is re-created
   * after a tgtd restart; returns the target name.
   */
  async mountImage(scope: ProjectScope, name: string): Promise<string> {
    const { project } = scope;
    return this.locks.run([exclusive(lockKey.image(project.id, name))], async () => {
      const row = await this.catalog.require(project, name);
      const ceph = this.catalog.cephName(row);
      if (await this.iscsi.isExported(ceph)) throw new TargetExistsError(this.iscsi.targetName(ceph));
      await withBmiNames({ [ceph]: name }, () =>
        this.sagas.of(scope, { image: name }).run('mount_image', async (s) => {
          await s.step(this.iscsi.exportStep(ceph));
          await s.step(this.catalog.exportedStep(row, true));
        }),
      );
      return this.iscsi.targetName(ceph);
    });
  }

  /**
   * Removes an image's iSCSI target (admin, `bmi iscsi rm`) and the record of it. An image recorded as exported
   * whose target is already gone (a tgtd restart not yet reconciled) is unmounted too; one that is neither is a 404.
   */
  async umountImage(scope: ProjectScope, name: string, check?: LockedCheck): Promise<void> {
    const { project } = scope;
    return this.locks.run([exclusive(lockKey.image(project.id, name))], async () => {
      await check?.();
      const row = await this.catalog.require(project, name);
      const ceph = this.catalog.cephName(row);
      // recorded as exported: its target may be gone already (a tgtd restart not yet reconciled)
      if (!row.exported && !(await this.iscsi.isExported(ceph))) {
        throw new TargetNotFoundError(this.iscsi.targetName(ceph));
      }
      await withBmiNames({ [ceph]: name }, () =>
        this.sagas.of(scope, { image: name }).run('umount_image', async (s) => {
          await s.step(this.iscsi.unexportStep(ceph));
          await s.step(this.catalog.exportedStep(row, false));
        }),
      );
    });
  }

  /** The project's images that are exported, as `{ image name: target name }` (admin, `bmi iscsi ls`). */
  async showMounted(scope: ProjectScope): Promise<Record<string, string>> {
    const mounted: Record<string, string> = {};
    for (const { image, target } of await this.mounted(scope)) mounted[image] = target.name;
    return mounted;
  }

  /** The project's images exported over iSCSI, each with where initiators find its target. */
  async mountedTargets(scope: ProjectScope): Promise<{ image: string; iscsi: IscsiEndpoint }[]> {
    return (await this.mounted(scope)).map(({ image, target }) => ({
      image,
      iscsi: this.iscsi.endpoint(target.image),
    }));
  }

  /** The project's images that have a target, with the target as tgtd lists it: one listing of each. */
  private async mounted(scope: ProjectScope): Promise<{ image: string; target: IscsiTarget }[]> {
    const byCeph = new Map(
      (await this.catalog.listProject(scope.project.id)).map((r) => [this.catalog.cephName(r), r.name]),
    );
    const mounted: { image: string; target: IscsiTarget }[] = [];
    for (const target of await this.iscsi.list()) {
      const image = byCeph.get(target.image);
      if (image !== undefined) mounted.push({ image, target });
    }
    return mounted;
  }
}
