import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSuccessText, LegacyApi } from '../../common/http/legacy';
import { Access, AccessRule } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { DisksService } from './disks.service';
import {
  AddImageDto,
  CopyImageDto,
  CreateDiskDto,
  CreateSnapshotDto,
  DiskNameDto,
  ExportImageDto,
  ImageNameDto,
  ImageRowDto,
  ImportImageDto,
  ListAllImagesDto,
  ListInProjectDto,
} from './dto/images.dto';
import { ImageListRow, ImagesService } from './images.service';
/** A copy or move into another project needs an admin; within the project, access to it. */
const crossProjectNeedsAdmin: AccessRule = (body) => (body.dest_project === body.project ? 'member' : 'admin');
const PAIRS = { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 } };

/**
 * Images, snapshots and disks: the original BMI routes (reference §2.2), byte-compatible, plus the admin
 * operations its CLI ran in-process, now served over the same conventions.
 */
@ApiTags('images')
@LegacyApi()
@Controller()
export class ImagesController {
  constructor(
    private readonly images: ImagesService,
    private readonly disks: DisksService,
  ) {}

  @Post('list_images')
  @HttpCode(200)
  @ApiOperation({ summary: 'Names of the golden images of the project' })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'string' } } })
  listImages(@Access('member') scope: ProjectScope, @Body() _dto: ListInProjectDto): Promise<string[]> {
    return this.images.listImages(scope);
  }

  @Put('create_disk')
  @ApiOperation({ summary: 'Clone an image into a new disk and export it over iSCSI' })
  @ApiOkResponse({
    description: 'the iSCSI target name, as a JSON string',
    schema: { type: 'string', example: '5img12' },
  })
  createDisk(@Access('member') scope: ProjectScope, @Body() dto: CreateDiskDto): Promise<string> {
    return this.disks.createDisk(scope, dto.disk_name, dto.img);
  }

  @Delete('delete_disk')
  @ApiOperation({ summary: 'Remove a disk: its iSCSI target, its clone and its row' })
  @ApiSuccessText()
  deleteDisk(@Access('member') scope: ProjectScope, @Body() dto: DiskNameDto): Promise<void> {
    return this.disks.deleteDisk(scope, dto.disk_name);
  }

  @Put('create_snapshot')
  @ApiOperation({ summary: 'Make a new image from a disk (power the node off first)' })
  @ApiSuccessText()
  createSnapshot(@Access('member') scope: ProjectScope, @Body() dto: CreateSnapshotDto): Promise<void> {
    return this.images.createSnapshot(scope, dto.disk_name, dto.snap_name);
  }

  @Post('list_snapshots')
  @HttpCode(200)
  @ApiOperation({ summary: '[snapshot, parent image] pairs of the project' })
  @ApiOkResponse({ schema: PAIRS })
  listSnapshots(@Access('member') scope: ProjectScope, @Body() _dto: ListInProjectDto): Promise<[string, string][]> {
    return this.images.listSnapshots(scope);
  }

  @Delete('remove_image')
  @ApiOperation({ summary: 'Remove a golden image or a snapshot' })
  @ApiSuccessText()
  removeImage(@Access('member') scope: ProjectScope, @Body() dto: ImageNameDto): Promise<void> {
    return this.images.removeImage(scope, dto.img);
  }

  @Post('list_disks')
  @HttpCode(200)
  @ApiOperation({ summary: '[disk, source image] pairs of the project (BMI extension)' })
  @ApiOkResponse({ schema: PAIRS })
  listDisks(@Access('member') scope: ProjectScope, @Body() _dto: ListInProjectDto): Promise<[string, string][]> {
    return this.images.listDisks(scope);
  }

  @Post('list_all_images')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every image row of every project, filtered (admin; BMI extension)' })
  @ApiOkResponse({ type: [ImageRowDto] })
  listAllImages(@Access('admin') scope: ProjectScope, @Body() dto: ListAllImagesDto): Promise<ImageListRow[]> {
    return this.images.listAllImages(scope, {
      snapshots: dto.snapshots,
      clones: dto.clones,
      public: dto.public,
      project: dto.filter_project,
      name: dto.filter_name,
      ceph: dto.filter_ceph,
    });
  }

  @Put('import_image')
  @ApiOperation({
    summary: 'Import a raw RBD image (or one of its snapshots) as a golden image (admin; BMI extension)',
  })
  @ApiSuccessText()
  async importImage(@Access('admin') scope: ProjectScope, @Body() dto: ImportImageDto): Promise<void> {
    if (dto.snap === undefined) await this.images.importImage(scope, dto.img);
    else await this.images.importSnapshot(scope, dto.img, dto.snap, dto.protect ?? false);
  }

  @Put('export_image')
  @ApiOperation({ summary: 'Export an image as an independent raw RBD image (admin; BMI extension)' })
  @ApiSuccessText()
  exportImage(@Access('admin') scope: ProjectScope, @Body() dto: ExportImageDto): Promise<void> {
    return this.images.exportImage(scope, dto.img, dto.name);
  }

  @Put('copy_image')
  @ApiOperation({ summary: 'Copy an image, into another project with an admin (BMI extension)' })
  @ApiSuccessText()
  copyImage(@Access(crossProjectNeedsAdmin) scope: ProjectScope, @Body() dto: CopyImageDto): Promise<void> {
    return this.images.copyImage(scope, dto.img, dto.dest_project, dto.new_name);
  }

  @Put('move_image')
  @ApiOperation({ summary: 'Rename an image, or move it into another project with an admin (BMI extension)' })
  @ApiSuccessText()
  moveImage(@Access(crossProjectNeedsAdmin) scope: ProjectScope, @Body() dto: CopyImageDto): Promise<void> {
    return this.images.moveImage(scope, dto.img, dto.dest_project, dto.new_name);
  }

  @Put('add_image')
  @ApiOperation({ summary: 'Add an image row, DB only (admin; BMI extension)' })
  @ApiOkResponse({ description: 'the new row id', schema: { type: 'integer' } })
  addImage(@Access('admin') scope: ProjectScope, @Body() dto: AddImageDto): Promise<number> {
    return this.images.addImage(scope, {
      name: dto.img,
      id: dto.id,
      snapshot: dto.snap,
      parent: dto.parent,
      public: dto.public,
    });
  }

  @Delete('delete_image')
  @ApiOperation({ summary: 'Delete an image row, DB only (admin; BMI extension)' })
  @ApiSuccessText()
  deleteImage(@Access('admin') scope: ProjectScope, @Body() dto: ImageNameDto): Promise<void> {
    return this.images.deleteImage(scope, dto.img);
  }

  @Put('mount_image')
  @ApiOperation({ summary: 'Export an image over iSCSI (admin; BMI extension)' })
  @ApiOkResponse({ description: 'the iSCSI target name, as a JSON string', schema: { type: 'string' } })
  mountImage(@Access('admin') scope: ProjectScope, @Body() dto: ImageNameDto): Promise<string> {
    return this.disks.mountImage(scope, dto.img);
  }

  @Delete('umount_image')
  @ApiOperation({ summary: "Remove an image's iSCSI target (admin; BMI extension)" })
  @ApiSuccessText()
  umountImage(@Access('admin') scope: ProjectScope, @Body() dto: ImageNameDto): Promise<void> {
    return this.disks.umountImage(scope, dto.img);
  }

  @Post('show_mounted')
  @HttpCode(200)
  @ApiOperation({ summary: 'Images of the project exported over iSCSI: {image: target} (admin; BMI extension)' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: { type: 'string' } } })
  showMounted(@Access('admin') scope: ProjectScope, @Body() _dto: ListInProjectDto): Promise<Record<string, string>> {
    return this.disks.showMounted(scope);
  }
}
