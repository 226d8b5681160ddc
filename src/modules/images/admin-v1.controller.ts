import { Body, Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { PathName } from '../../common/http/fields';
import { Page, paginate, PageQueryDto } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Create, V1Delete } from '../../common/http/v1-routes';
import { AccessInPath, AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { DisksService } from './disks.service';
import {
  ImageRecordDto,
  ImageRecordPageDto,
  ImageTargetDto,
  ListImageRecordsQueryDto,
  NewImageRecordDto,
} from './dto/images-v1.dto';
import { ImageListRow, ImagesService } from './images.service';
import { PageOf } from '../../common/http/resources';

const ImageTargetPageDto = PageOf(ImageTargetDto, 'ImageTargetPage');

function record(r: ImageListRow): ImageRecordDto {
  return {
    id: r.id,
    name: r.name,
    project: r.project,
    ceph_name: r.cephName,
    kind: r.isSnapshot ? 'snapshot' : r.parent !== '' ? 'disk' : 'golden',
    public: r.isPublic,
    parent: r.parent === '' ? null : r.parent,
  };
}

/** What admins inspect and repair by hand: every image record, records alone, and iSCSI targets. */
@V1Api('admin')
@Controller(V1)
export class AdminV1Controller {
  constructor(
    private readonly images: ImagesService,
    private readonly disks: DisksService,
  ) {}

  @Get('images')
  @ApiOperation({ summary: 'Every image record of every project, filtered (admin)' })
  @ApiOkResponse({ type: ImageRecordPageDto })
  @ApiErrors(403)
  async listImageRecords(
    @AdminAccess() scope: ProjectScope,
    @Query() q: ListImageRecordsQueryDto,
  ): Promise<Page<ImageRecordDto>> {
    const rows = await this.images.listAllImages(scope, { project: q.project, name: q.name, ceph: q.ceph_name });
    const wanted = rows
      .map(record)
      .filter((r) => (q.kind === undefined || r.kind === q.kind) && (q.public !== true || r.public));
    return paginate(wanted, (r) => String(r.id).padStart(10, '0'), q);
  }

  @Post('projects/:project/image-records')
  @ApiProjectParam()
  @ApiOperation({ summary: 'Add an image record, in the database only (admin; repairs)' })
  @V1Create(ImageRecordDto, 403)
  async addImageRecord(
    @AccessInPath('admin') scope: ProjectScope,
    @Body() dto: NewImageRecordDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImageRecordDto> {
    await this.images.addImage(scope, {
      name: dto.name,
      id: dto.id,
      snapshot: dto.snapshot,
      parent: dto.parent,
      public: dto.public,
    });
    const row = await this.images.imageRecord(scope, dto.name);
    setLocation(res, `/${V1}/images?project=${scope.project.name}&name=${dto.name}`);
    return record(row);
  }

  @Delete('projects/:project/image-records/:image')
  @HttpCode(204)
  @ApiProjectParam()
  @ApiOperation({ summary: 'Delete an image record, in the database only (admin; repairs)' })
  @V1Delete(403)
  deleteImageRecord(@AccessInPath('admin') scope: ProjectScope, @PathName('image') image: string): Promise<void> {
    return this.images.deleteImage(scope, image);
  }

  @Get('projects/:project/targets')
  @ApiProjectParam()
  @ApiOperation({ summary: 'The images of the project exported over iSCSI, with their targets (admin)' })
  @ApiOkResponse({ type: ImageTargetPageDto })
  @ApiErrors(403)
  async listTargets(
    @AccessInPath('admin') scope: ProjectScope,
    @Query() q: PageQueryDto,
  ): Promise<Page<ImageTargetDto>> {
    return paginate(await this.disks.mountedTargets(scope), (t) => t.image, q);
  }
}
