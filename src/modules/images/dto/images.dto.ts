import { FlagField, IdField, NameField, OptionalNameField, ProjectScopedDto } from '../../../common/http/fields';

export class ListInProjectDto extends ProjectScopedDto {}

export class CreateDiskDto extends ProjectScopedDto {
  /** name of the new disk */
  @NameField('name of the new disk')
  disk_name: string;

  /** golden image or snapshot to clone */
  @NameField('golden image or snapshot the disk is cloned from')
  img: string;
}

export class DiskNameDto extends ProjectScopedDto {
  @NameField('name of the disk')
  disk_name: string;
}

export class CreateSnapshotDto extends ProjectScopedDto {
  @NameField('the disk to snapshot (power its node off first: the snapshot is crash-consistent)')
  disk_name: string;

  @NameField('name of the new snapshot image')
  snap_name: string;
}

export class ImageNameDto extends ProjectScopedDto {
  @NameField('name of the image')
  img: string;
}

export class ImportImageDto extends ProjectScopedDto {
  @NameField('raw RBD image of the pool to import; it becomes the image name')
  img: string;

  @OptionalNameField('import this existing snapshot of the image instead of its current content')
  snap?: string;

  @FlagField('protect the snapshot for the clone (and unprotect it afterwards)')
  protect?: boolean;
}

export class ExportImageDto extends ProjectScopedDto {
  @NameField('the BMI image to export')
  img: string;

  @NameField('name of the new raw RBD image')
  name: string;
}

export class CopyImageDto extends ProjectScopedDto {
  @NameField('the image to copy or move')
  img: string;

  @NameField('destination project (another project needs an admin)')
  dest_project: string;

  @OptionalNameField('new name; default: the same name')
  new_name?: string;
}

export class ListAllImagesDto extends ProjectScopedDto {
  @FlagField('include snapshots')
  snapshots?: boolean;

  @FlagField('include clones (disks)')
  clones?: boolean;

  @FlagField('include public images')
  public?: boolean;

  @OptionalNameField('only this project')
  filter_project?: string;

  @OptionalNameField('only this image name')
  filter_name?: string;

  @OptionalNameField('only this Ceph name')
  filter_ceph?: string;
}

export class AddImageDto extends ProjectScopedDto {
  @NameField('name of the image row')
  img: string;

  @IdField('explicit row id (its Ceph name is <uid>img<id>)')
  id?: number;

  @FlagField('the row is a snapshot')
  snap?: boolean;

  @OptionalNameField('parent image, by name, in the same project')
  parent?: string;

  @FlagField('the image is public')
  public?: boolean;
}

/** One row of list_all_images. */
export class ImageRowDto {
  id: number;
  name: string;
  project: string;
  cephName: string;
  isPublic: boolean;
  isSnapshot: boolean;
  /** parent image name, or "" */
  parent: string;
}
