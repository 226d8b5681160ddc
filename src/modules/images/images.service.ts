import { Injectable } from '@nestjs/common';
import { Sagas } from '../operations/sagas';
import { AppConfig } from '../../config/app-config';
import { ConflictError } from '../../common/errors/domain-error';
import { exclusive, lockKey, OperationLocks, LockedCheck, shared } from '../../common/concurrency/locks';
import type { LockRequest } from '../../common/concurrency/keyed-lock';
import { Saga } from '../../common/orchestration/saga';
import type { ProjectScope } from '../access/access-level';
import { ProjectEntity } from '../projects/project.entity';
import { ProjectsService } from '../projects/projects.service';
import { IscsiService } from '../iscsi/iscsi.service';
import { ImageEntity } from './image.entity';
import { ImageCatalog } from './image-catalog';
import { ImageInUseError, ImageNotFoundError, WrongImageKindError } from './images.errors';
import { BlockStorage } from './storage/block-storage';
import {
  RbdImageBusyError,
  RbdImageExistsError,
  RbdImageHasSnapshotsError,
  RbdImageNotFoundError,
} from './storage/storage.errors';
import { StorageSteps } from './storage/storage-steps';
import { withBmiNames } from './name-rewrite';

export interface ImageListRow {
  id: number;
  name: string;
  project: string;
  cephName: string;
  isPublic: boolean;
  isSnapshot: boolean;
  parent: string;
}

/** An image as /v1 shows it: a golden image (no parent) or a snapshot (made from a disk of `parent`). */
export interface ImageView {
  name: string;
  kind: 'golden' | 'snapshot';
  /** for a snapshot, the image its disk was cloned from; null for a golden image (or when it is gone) */
  parent: string | null;
  public: boolean;
  /** exported over iSCSI (mount_image) */
  exported: boolean;
}

export interface ImageFilter {
  snapshots?: boolean;
  clones?: boolean;
  public?: boolean;
  project?: string;
  name?: string;
  ceph?: string;
}

export interface AddImageRequest {
  name: string;
  id?: number;
  snapshot?: boolean;
  parent?: string;
  public?: boolean;
}

/**
 * The image catalogue: golden images, snapshots and their Ceph images. Every multi-step operation is a list
 * of steps run by the saga, so a failure at any step leaves DB and Ceph as they were.
 */
@Injectable()
export class ImagesService {
  constructor(
    private readonly sagas: Sagas,
    private readonly locks: OperationLocks,
    private readonly catalog: ImageCatalog,
    private readonly storage: BlockStorage,
    private readonly steps: StorageSteps,
    private readonly projects: ProjectsService,
    private readonly iscsi: IscsiService,
    private readonly config: AppConfig,
  ) {}

  private get snap(): string {
    return this.config.bmi.snapshot;
  }

  /** Names of the project's images that have no parent: golden, imported and copied images (§3.8). */
  async listImages(scope: ProjectScope): Promise<string[]> {
    const { project } = scope;
    return (await this.catalog.listGolden(project.id)).map((r) => r.name);
  }

  /** `[snapshot, parent]` pairs; a snapshot without a parent has parent "" (the original crashed, §8 #9). */
  async listSnapshots(scope: ProjectScope): Promise<[string, string][]> {
    const { project } = scope;
    return (await this.catalog.listProject(project.id)).filter((r) => r.isSnapshot).map((r) => [r.name, r.parentName]);
  }

  /** `[disk, source image]` pairs. */
  async listDisks(scope: ProjectScope): Promise<[string, string][]> {
    const { project } = scope;
    return (await this.catalog.listProject(project.id))
      .filter((r) => this.catalog.kind(r) === 'disk')
      .map((r) => [r.name, r.parentName]);
  }

  /** The project's golden images and snapshots (disks are DisksService's), optionally of one kind. */
  async imageViews(scope: ProjectScope, kind?: ImageView['kind']): Promise<ImageView[]> {
    return (await this.catalog.listProject(scope.project.id))
      .filter((r) => this.catalog.kind(r) !== 'disk')
      .map((r) => this.view(r, r.parentName))
      .filter((v) => kind === undefined || v.kind === kind);
  }

  /** One golden image or snapshot of the project; a disk's name is not an image's (404). */
  async imageView(scope: ProjectScope, name: string): Promise<ImageView> {
    return this.viewIn(scope.project, name);
  }

  /** One golden image or snapshot of the named project (the destination of a move, say). */
  async imageViewIn(projectName: string, name: string): Promise<ImageView> {
    return this.viewIn(await this.projects.require(projectName), name);
  }

  private async viewIn(project: ProjectEntity, name: string): Promise<ImageView> {
    const row = await this.catalog.require(project, name);
    if (this.catalog.kind(row) === 'disk') throw new ImageNotFoundError(name);
    return this.view(row, (await this.catalog.byId(row.parentId))?.name ?? '');
  }

  /** One record of the project, as listAllImages lists it (admin; what add_image made, say). */
  async imageRecord(scope: ProjectScope, name: string): Promise<ImageListRow> {
    const row = await this.catalog.require(scope.project, name);
    return this.listRow(row, scope.project.name, (await this.catalog.byId(row.parentId))?.name ?? '');
  }

  private listRow(r: ImageEntity, projectName: string, parentName: string): ImageListRow {
    return {
      id: r.id,
      name: r.name,
      project: projectName,
      cephName: this.catalog.cephName(r),
      isPublic: r.isPublic,
      isSnapshot: r.isSnapshot,
      parent: parentName,
    };
  }

  private view(r: ImageEntity, parentName: string): ImageView {
    return {
      name: r.name,
      kind: r.isSnapshot ? 'snapshot' : 'golden',
      parent: parentName === '' ? null : parentName,
      public: r.isPublic,
      exported: r.exported,
    };
  }

  /** Every row of every project (admin), filtered as `bmi db ls` filters (reference §6). */
  async listAllImages(scope: ProjectScope, filter: ImageFilter = {}): Promise<ImageListRow[]> {
    const rows = (await this.catalog.listAll()).map((r) => this.listRow(r, r.projectName, r.parentName));
    const kinds = filter.snapshots || filter.clones || filter.public;
    return rows.filter(
      (r) =>
        (!kinds ||
          (filter.snapshots && r.isSnapshot) ||
          (filter.clones && r.parent !== '' && !r.isSnapshot) ||
          (filter.public && r.isPublic)) &&
        (filter.project === undefined || r.project === filter.project) &&
        (filter.name === undefined || r.name === filter.name) &&
        (filter.ceph === undefined || r.cephName === filter.ceph),
    );
  }

  /**
   * A new golden image from a disk (§3.5): the disk is snapshotted, the snapshot cloned and flattened into a
   * new image that carries its own protected snapshot, and the temporary snapshot on the disk is removed.
   * The snapshot is crash-consistent: the node should be powered off first.
   */
  async createSnapshot(scope: ProjectScope, diskName: string, snapName: string): Promise<void> {
    const { project } = scope;
    return this.locks.run(
      [
        shared(lockKey.project(project.name)),
        exclusive(lockKey.image(project.id, diskName)),
        exclusive(lockKey.image(project.id, snapName)),
      ],
      async () => {
        const disk = await this.catalog.require(project, diskName);
        if (this.catalog.kind(disk) !== 'disk') {
          throw new WrongImageKindError(`${diskName} is not a disk: copy it with copy_image instead`);
        }
        await this.catalog.assertFree(project, snapName);
        const diskCeph = this.catalog.cephName(disk);
        await this.healLeftoverSnapshot(diskCeph);
        await withBmiNames({ [diskCeph]: diskName }, () =>
          this.sagas.of(scope, { disk: diskName, snapshot: snapName }).run('create_snapshot', async (s) => {
            const row = await this.catalog.reserve(
              s,
              { name: snapName, projectId: project.id, parentId: disk.parentId, isSnapshot: true, isPublic: false },
              project.name,
            );
            await s.step(this.steps.protectedSnapshot(diskCeph));
            await this.sealedCopy(s, diskCeph, this.snap, this.catalog.cephName(row));
            await this.dropSnapshot(s, diskCeph);
          }),
        );
      },
    );
  }

  /**
   * Removes a golden image or a snapshot (§3.7), refusing first, before anything changes, when disks were
   * cloned from it, when it is exported over iSCSI, or when Ceph holds clones or other snapshots of it.
   * A Ceph image that is already gone (issue #122) does not stop the row from going.
   */
  async removeImage(scope: ProjectScope, name: string, check?: LockedCheck): Promise<void> {
    const { project } = scope;
    return this.locks.run(
      [shared(lockKey.project(project.name)), exclusive(lockKey.image(project.id, name))],
      async () => {
        await check?.();
        const row = await this.catalog.require(project, name);
        if (this.catalog.kind(row) === 'disk') {
          throw new WrongImageKindError(`${name} is a disk: use delete_disk to remove it`);
        }
        await this.catalog.assertNoDiskChildren(row);
        const ceph = this.catalog.cephName(row);
        await this.assertRemovable(ceph, name);
        await this.sagas.of(scope, { image: name }).run('remove_image', async (s) => {
          await this.dropSnapshot(s, ceph);
          await s.step(await this.catalog.deleteStep(row));
          await s.step(this.steps.removeImage(ceph));
        });
      },
    );
  }

  /**
   * Imports a raw RBD image of the pool as a golden image of the project (§3.9): a copy named `<uid>img<id>`
   * carrying the protected BMI snapshot. The source is left as it was found.
   */
  async importImage(scope: ProjectScope, source: string): Promise<void> {
    return this.importing(scope, source, async (project) => {
      if (!(await this.storage.imageExists(source))) throw RbdImageNotFoundError.of(source);
      if ((await this.storage.listSnapshots(source)).some((s) => s.name === this.snap)) {
        throw new ConflictError(
          `${source} already has a snapshot named "${this.snap}"; import it with --snap ${this.snap} instead`,
        );
      }
      await this.sagas.of(scope, { source }).run('import_image', async (s) => {
        const row = await this.reserveGolden(s, project, source);
        await s.step(this.steps.protectedSnapshot(source));
        await this.sealedCopy(s, source, this.snap, this.catalog.cephName(row));
        await this.dropSnapshot(s, source);
      });
    });
  }

  /**
   * Imports an existing snapshot of a raw RBD image (§3.9). With `protect`, BMI protects the snapshot for the
   * clone and unprotects it again afterwards; without, it must be protected already.
   */
  async importSnapshot(scope: ProjectScope, source: string, snapshot: string, protect: boolean): Promise<void> {
    return this.importing(scope, source, async (project) => {
      const snaps = await this.storage.listSnapshots(source);
      const found = snaps.find((s) => s.name === snapshot);
      if (!found) throw RbdImageNotFoundError.of(`${source}@${snapshot}`);
      if (!found.protected && !protect) {
        throw new ConflictError(`Snapshot ${snapshot} of ${source} is not protected; import it with --protect`);
      }
      const weProtect = protect && !found.protected;
      await this.sagas.of(scope, { source, snapshot, protect }).run('import_snapshot', async (s) => {
        const row = await this.reserveGolden(s, project, source);
        if (weProtect) await s.step(this.steps.protect(source, snapshot));
        await this.sealedCopy(s, source, snapshot, this.catalog.cephName(row));
        if (weProtect) await s.step(this.steps.unprotect(source, snapshot));
      });
    });
  }

  /** Exports a BMI image as an independent raw RBD image named `target` (no DB change). */
  async exportImage(scope: ProjectScope, name: string, target: string): Promise<void> {
    this.catalog.assertNotBmiName(target);
    const { project } = scope;
    return this.locks.run([shared(lockKey.image(project.id, name)), exclusive(lockKey.rbd(target))], async () => {
      const row = await this.catalog.require(project, name);
      if (await this.storage.imageExists(target)) throw RbdImageExistsError.of(target);
      const ceph = this.catalog.cephName(row);
      await withBmiNames({ [ceph]: name }, () =>
        this.sagas.of(scope, { image: name, target }).run('export_image', async (s) => {
          await s.step(this.steps.clone(ceph, this.snap, target, { mark: false }));
          await s.step(this.steps.flatten(target));
        }),
      );
    });
  }

  /**
   * Copies an image, within the project or into another one (admin), as a new independent Ceph image.
   * A same-project copy keeps the snapshot flag and parent; a copy into another project becomes a golden image.
   */
  async copyImage(scope: ProjectScope, name: string, destProject: string, newName?: string): Promise<void> {
    return this.transfer(scope, name, destProject, newName, shared, async ({ cross, dest, row, targetName }) => {
      if (this.catalog.kind(row) === 'disk') {
        throw new WrongImageKindError(`${name} is a disk: create a snapshot of it and copy the snapshot`);
      }
      await this.catalog.assertFree(dest, targetName);
      const ceph = this.catalog.cephName(row);
      await withBmiNames({ [ceph]: name }, () =>
        this.sagas
          .of(scope, { image: name, dest_project: dest.name, new_name: targetName })
          .run('copy_image', async (s) => {
            const copy = await this.catalog.reserve(
              s,
              {
                name: targetName,
                projectId: dest.id,
                parentId: cross ? null : row.parentId,
                isSnapshot: cross ? false : row.isSnapshot,
                isPublic: row.isPublic,
              },
              dest.name,
            );
            await this.sealedCopy(s, ceph, this.snap, this.catalog.cephName(copy));
          }),
      );
    });
  }

  /**
   * Moves (or renames) an image: DB only, the Ceph name stays. Into another project (admin) the image loses
   * its parent and snapshot flag; an image that other rows descend from cannot leave its project.
   */
  async moveImage(
    scope: ProjectScope,
    name: string,
    destProject: string,
    newName?: string,
    check?: LockedCheck,
  ): Promise<void> {
    return this.transfer(
      scope,
      name,
      destProject,
      newName,
      exclusive,
      async ({ cross, project, dest, row, targetName }) => {
        await check?.();
        if (!cross && targetName === name) return;
        await this.catalog.assertFree(dest, targetName);
        if (cross && (await this.catalog.children(row.id)).length) {
          throw new ImageInUseError(
            `${name} has disks or snapshots made from it and cannot leave project ${project.name}`,
          );
        }
        if (cross && this.catalog.kind(row) === 'disk') {
          throw new WrongImageKindError(`${name} is a disk and cannot leave project ${project.name}`);
        }
        await this.catalog.update(
          row,
          cross ? { name: targetName, projectId: dest.id, parentId: null, isSnapshot: false } : { name: targetName },
          dest.name,
        );
      },
    );
  }

  /** DB only (admin): registers a row, e.g. to adopt an image already laid out in Ceph. */
  async addImage(scope: ProjectScope, req: AddImageRequest): Promise<number> {
    const { project } = scope;
    return this.locks.run(
      [shared(lockKey.project(project.name)), exclusive(lockKey.image(project.id, req.name))],
      async () => {
        await this.catalog.assertFree(project, req.name);
        let parentId: number | null = null;
        if (req.parent !== undefined) parentId = (await this.catalog.require(project, req.parent)).id;
        if (req.id !== undefined && (await this.catalog.byId(req.id))) {
          throw new ConflictError(`Image id ${req.id} is already taken`);
        }
        const row = await this.catalog.insert(
          {
            id: req.id,
            name: req.name,
            projectId: project.id,
            parentId,
            isSnapshot: req.snapshot ?? false,
            isPublic: req.public ?? false,
          },
          project.name,
        );
        return row.id;
      },
    );
  }

  /** DB only (admin): removes a row, with the same clone rules as remove_image. */
  async deleteImage(scope: ProjectScope, name: string): Promise<void> {
    const { project } = scope;
    return this.locks.run([exclusive(lockKey.image(project.id, name))], async () => {
      const row = await this.catalog.require(project, name);
      await this.catalog.assertNoDiskChildren(row);
      const step = await this.catalog.deleteStep(row);
      await this.sagas.of(scope, { image: name }).run('delete_image', (s) => s.step(step));
    });
  }

  /**
   * Runs a copy or move of `name` to `newName` (default: the same name) in `destProject`, under the locks of
   * both projects, the source image (held as `source` says) and the target name. The route asks for an admin
   * when the projects differ.
   */
  private async transfer(
    scope: ProjectScope,
    name: string,
    destProject: string,
    newName: string | undefined,
    source: (key: string) => LockRequest,
    act: (t: {
      cross: boolean;
      project: ProjectEntity;
      dest: ProjectEntity;
      row: ImageEntity;
      targetName: string;
    }) => Promise<void>,
  ): Promise<void> {
    const { project } = scope;
    const cross = destProject !== project.name;
    const dest = cross ? await this.projects.require(destProject) : project;
    const targetName = newName ?? name;
    return this.locks.run(
      [
        shared(lockKey.project(project.name)),
        shared(lockKey.project(dest.name)),
        source(lockKey.image(project.id, name)),
        exclusive(lockKey.image(dest.id, targetName)),
      ],
      async () => act({ cross, project, dest, row: await this.catalog.require(project, name), targetName }),
    );
  }

  /** An import of the raw RBD image `source` as a golden image of the project, under its locks. */
  private importing(
    scope: ProjectScope,
    source: string,
    act: (project: ProjectEntity) => Promise<void>,
  ): Promise<void> {
    this.catalog.assertNotBmiName(source);
    const { project } = scope;
    return this.locks.run(
      [
        shared(lockKey.project(project.name)),
        exclusive(lockKey.rbd(source)),
        exclusive(lockKey.image(project.id, source)),
      ],
      async () => {
        await this.catalog.assertFree(project, source);
        await act(project);
      },
    );
  }

  /** Reserves the row of an imported image: golden, private, named as its source. */
  private reserveGolden(s: Saga, project: ProjectEntity, source: string): Promise<ImageEntity> {
    return this.catalog.reserve(
      s,
      { name: source, projectId: project.id, parentId: null, isSnapshot: false, isPublic: false },
      project.name,
    );
  }

  private async sealedCopy(s: Saga, src: string, snap: string, dest: string): Promise<void> {
    for (const step of this.steps.sealedCopy(src, snap, dest)) await s.step(step);
  }

  /** Removes BMI's snapshot of `image` when it is there. */
  private async dropSnapshot(s: Saga, image: string): Promise<void> {
    const step = await this.steps.dropSnapshot(image);
    if (step) await s.step(step);
  }

  /**
   * The BMI snapshot on a disk exists only during create_snapshot. One left by a crashed run (the original's
   * "Already Exists" trap, §8 #12) is removed when nothing was cloned from it.
   */
  private async healLeftoverSnapshot(diskCeph: string): Promise<void> {
    const snaps = await this.storage.listSnapshots(diskCeph);
    if (!snaps.some((s) => s.name === this.snap)) return;
    const children = await this.storage.children(diskCeph, this.snap);
    if (children.length) throw new ImageInUseError(`${diskCeph}@${this.snap} has clones: ${children.join(', ')}`);
    await this.steps.removeSnapshotIfExists(diskCeph, this.snap);
  }

  private async assertRemovable(ceph: string, name: string): Promise<void> {
    if (await this.iscsi.isExported(ceph)) {
      throw new ImageInUseError(`${name} is exported over iSCSI; unmount it first`);
    }
    if (!(await this.storage.imageExists(ceph))) return;
    const snaps = await this.storage.listSnapshots(ceph);
    if (snaps.some((s) => s.name !== this.snap)) throw RbdImageHasSnapshotsError.of(name);
    if (snaps.length && (await this.storage.children(ceph, this.snap)).length) {
      throw RbdImageBusyError.of(name);
    }
  }
}
