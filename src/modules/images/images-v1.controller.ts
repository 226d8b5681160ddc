import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { PathName } from '../../common/http/fields';
import { assertIfMatch, Page, paginate, IfMatch, ifMatches } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Delete, V1Launch } from '../../common/http/v1-routes';
import { AccessInPath, AccessRule } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { OperationRowDto } from '../operations/dto/operations.dto';
import { OperationRow } from '../operations/operation-journal.service';
import { OperationLauncher, operationPath } from '../operations/operation-launcher';
import { DisksService } from './disks.service';
import {
  CopyImageV1Dto,
  ExportImageV1Dto,
  ImageDto,
  ImagePageDto,
  ImageTargetDto,
  ImportImageV1Dto,
  ListImagesQueryDto,
} from './dto/images-v1.dto';
import { ImagesService, ImageView } from './images.service';

/** A copy or move into another project needs an admin; within the project, access to it. */
const elsewhereNeedsAdmin: AccessRule = (body) =>
  body.dest_project === undefined || body.dest_project === body.project ? 'member' : 'admin';

/** Golden images and snapshots of a project, and what makes, copies and moves them. */
@V1Api('images')
@ApiProjectParam()
@Controller(`${V1}/projects/:project/images`)
export class ImagesV1Controller {
  constructor(
    private readonly images: ImagesService,
    private readonly disks: DisksService,
    private readonly launcher: OperationLauncher,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The golden images and snapshots of the project' })
  @ApiOkResponse({ type: ImagePageDto })
  @ApiErrors()
  async listImages(
    @AccessInPath('member') scope: ProjectScope,
    @Query() query: ListImagesQueryDto,
  ): Promise<Page<ImageView>> {
    return paginate(await this.images.imageViews(scope, query.kind), (i) => i.name, query);
  }

  @Get(':image')
  @ApiOperation({ summary: 'One golden image or snapshot' })
  @ApiOkResponse({ type: ImageDto })
  @ApiErrors()
  getImage(@AccessInPath('member') scope: ProjectScope, @PathName('image') image: string): Promise<ImageView> {
    return this.images.imageView(scope, image);
  }

  @Delete(':image')
  @ApiOperation({ summary: 'Remove a golden image or snapshot (and its Ceph image); refused while disks use it' })
  @HttpCode(204)
  @V1Delete(412)
  async removeImage(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('image') image: string,
    @IfMatch() ifMatch?: string,
  ): Promise<void> {
    await this.images.removeImage(
      scope,
      image,
      ifMatches(ifMatch, () => this.images.imageView(scope, image)),
    );
  }

  @Post('import')
  @ApiOperation({ summary: 'Import a raw RBD image of the pool (or one of its snapshots) as a golden image (admin)' })
  @HttpCode(202)
  @V1Launch(OperationRowDto, 403)
  async importImage(
    @AccessInPath('admin') scope: ProjectScope,
    @Body() dto: ImportImageV1Dto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    return this.launched(res, () =>
      dto.snapshot === undefined
        ? this.images.importImage(scope, dto.source)
        : this.images.importSnapshot(scope, dto.source, dto.snapshot, dto.protect ?? false),
    );
  }

  @Post(':image/export')
  @ApiOperation({ summary: 'Export the image as an independent raw RBD image of the pool (admin)' })
  @HttpCode(202)
  @V1Launch(OperationRowDto, 403)
  async exportImage(
    @AccessInPath('admin') scope: ProjectScope,
    @PathName('image') image: string,
    @Body() dto: ExportImageV1Dto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    return this.launched(res, () => this.images.exportImage(scope, image, dto.name));
  }

  @Post(':image/copy')
  @ApiOperation({ summary: 'Copy the image, in this project or (admin) into another' })
  @HttpCode(202)
  @V1Launch(OperationRowDto, 403)
  async copyImage(
    @AccessInPath(elsewhereNeedsAdmin) scope: ProjectScope,
    @PathName('image') image: string,
    @Body() dto: CopyImageV1Dto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    return this.launched(res, () =>
      this.images.copyImage(scope, image, dto.dest_project ?? scope.project.name, dto.name),
    );
  }

  @Post(':image/move')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rename the image, or (admin) move it into another project; answers it where it is now' })
  @ApiOkResponse({ type: ImageDto })
  @ApiErrors(403, 409, 412)
  async moveImage(
    @AccessInPath(elsewhereNeedsAdmin) scope: ProjectScope,
    @PathName('image') image: string,
    @Body() dto: CopyImageV1Dto,
    @IfMatch() ifMatch?: string,
  ): Promise<ImageView> {
    const dest = dto.dest_project ?? scope.project.name;
    // under the image's lock: a golden image or snapshot (a disk is not one of /images: 404, as GET), at the
    // version If-Match names
    await this.images.moveImage(scope, image, dest, dto.name, async () => {
      const current = await this.images.imageView(scope, image);
      if (ifMatch !== undefined) assertIfMatch(ifMatch, current);
    });
    return this.images.imageViewIn(dest, dto.name ?? image);
  }

  @Put(':image/target')
  @ApiOperation({ summary: 'Export the image over iSCSI (admin)' })
  @ApiOkResponse({ type: ImageTargetDto })
  @ApiErrors(403, 409)
  async mountImage(
    @AccessInPath('admin') scope: ProjectScope,
    @PathName('image') image: string,
  ): Promise<ImageTargetDto> {
    await this.images.imageView(scope, image);
    await this.disks.mountImage(scope, image);
    return { image, iscsi: await this.disks.endpointOf(scope, image) };
  }

  @Delete(':image/target')
  @ApiOperation({ summary: "Remove the image's iSCSI target (admin)" })
  @HttpCode(204)
  @V1Delete(403, 412)
  async umountImage(
    @AccessInPath('admin') scope: ProjectScope,
    @PathName('image') image: string,
    @IfMatch() ifMatch?: string,
  ): Promise<void> {
    await this.disks.umountImage(
      scope,
      image,
      ifMatches(ifMatch, async () => ({ image, iscsi: await this.disks.endpointOf(scope, image) })),
    );
  }

  private async launched(res: Response, work: () => Promise<unknown>): Promise<OperationRow> {
    const op = await this.launcher.launch(work);
    setLocation(res, operationPath(op));
    return op;
  }
}
