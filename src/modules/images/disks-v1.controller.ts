import { Body, Controller, Delete, Get, Post, Query, Res, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { PathName } from '../../common/http/fields';
import { Page, paginate, PageQueryDto, IfMatch, ifMatches } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Create, V1Delete, V1Launch } from '../../common/http/v1-routes';
import { AccessInPath } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { OperationRowDto } from '../operations/dto/operations.dto';
import { OperationRow } from '../operations/operation-journal.service';
import { OperationLauncher, operationPath } from '../operations/operation-launcher';
import { DiskView, DisksService } from './disks.service';
import { DiskDto, DiskPageDto, NewDiskDto, NewSnapshotDto } from './dto/images-v1.dto';
import { ImagesService } from './images.service';

/** Disks: copy-on-write clones of an image, each exported as an iSCSI target a node boots from. */
@V1Api('disks')
@ApiProjectParam()
@Controller(`${V1}/projects/:project/disks`)
export class DisksV1Controller {
  constructor(
    private readonly disks: DisksService,
    private readonly images: ImagesService,
    private readonly launcher: OperationLauncher,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The disks of the project' })
  @ApiOkResponse({ type: DiskPageDto })
  @ApiErrors()
  async listDisks(@AccessInPath('member') scope: ProjectScope, @Query() query: PageQueryDto): Promise<Page<DiskView>> {
    return paginate(await this.disks.diskViews(scope), (d) => d.name, query);
  }

  @Post()
  @ApiOperation({ summary: 'Clone an image into a new disk and export it over iSCSI' })
  @V1Create(DiskDto)
  async createDisk(
    @AccessInPath('member') scope: ProjectScope,
    @Body() dto: NewDiskDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DiskView> {
    await this.disks.createDisk(scope, dto.name, dto.image);
    setLocation(res, `/${V1}/projects/${scope.project.name}/disks/${dto.name}`);
    return this.disks.diskView(scope, dto.name);
  }

  @Get(':disk')
  @ApiOperation({ summary: 'One disk, with its iSCSI target, portal and URI' })
  @ApiOkResponse({ type: DiskDto })
  @ApiErrors()
  getDisk(@AccessInPath('member') scope: ProjectScope, @PathName('disk') disk: string): Promise<DiskView> {
    return this.disks.diskView(scope, disk);
  }

  @Delete(':disk')
  @ApiOperation({ summary: 'Remove a disk: its iSCSI target, its clone and its record' })
  @HttpCode(204)
  @V1Delete(412)
  async deleteDisk(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('disk') disk: string,
    @IfMatch() ifMatch?: string,
  ): Promise<void> {
    await this.disks.deleteDisk(
      scope,
      disk,
      ifMatches(ifMatch, () => this.disks.diskView(scope, disk)),
    );
  }

  @Post(':disk/snapshots')
  @ApiOperation({ summary: 'Make a new image from the disk (power its node off first)' })
  @HttpCode(202)
  @V1Launch(OperationRowDto)
  async createSnapshot(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('disk') disk: string,
    @Body() dto: NewSnapshotDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    const op = await this.launcher.launch(() => this.images.createSnapshot(scope, disk, dto.name));
    setLocation(res, operationPath(op));
    return op;
  }
}
