import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Put, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PathName } from '../../common/http/fields';
import { ValidationFailedError } from '../../common/http/validation';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Delete, V1Launch } from '../../common/http/v1-routes';
import { AccessInPath } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { OperationRowDto } from '../operations/dto/operations.dto';
import { OperationRow } from '../operations/operation-journal.service';
import { operationPath } from '../operations/operation-launcher';
import { NewUploadDto, UploadDto } from './dto/images-v1.dto';
import { UploadsService, UploadView } from './uploads.service';

/**
 * Golden images uploaded by their project's members: POST announces the file (name, format, size, SHA-256)
 * and answers with the operation that makes the image; PUTs bring its data, each from `Upload-Offset`, which
 * must be where the upload is (GET says; a transfer that broke goes on from there).
 */
@V1Api('images')
@ApiProjectParam()
@Controller(`${V1}/projects/:project/images`)
export class UploadsV1Controller {
  constructor(private readonly uploads: UploadsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Upload a raw or qcow2 file as a new golden image: announce it, then PUT its data' })
  @V1Launch(OperationRowDto, 413)
  async uploadImage(
    @AccessInPath('member') scope: ProjectScope,
    @Body() dto: NewUploadDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    const op = await this.uploads.start(scope, dto);
    // the operation, as every 202 says; the data goes to …/images/{name}/upload
    setLocation(res, operationPath(op));
    return op;
  }

  @Get(':image/upload')
  @ApiOperation({ summary: 'How much of an upload has arrived' })
  @ApiOkResponse({ type: UploadDto })
  @ApiErrors(409)
  getUpload(@AccessInPath('member') scope: ProjectScope, @PathName('image') image: string): UploadView {
    return this.uploads.view(scope, image);
  }

  @Put(':image/upload')
  @HttpCode(200)
  @ApiOperation({ summary: "Send (part of) an upload's data, from Upload-Offset" })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiHeader({ name: 'Upload-Offset', required: true, description: 'where this data starts: the bytes received' })
  @ApiHeader({
    name: 'Upload-Sha256',
    required: false,
    description: "the file's SHA-256 (hex), when the announcement had none: at the latest with the last byte",
  })
  @ApiOkResponse({ type: UploadDto, description: 'where the upload is now' })
  @ApiErrors(409, 413)
  sendUploadData(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('image') image: string,
    @Headers('upload-offset') offset: string | undefined,
    @Headers('upload-sha256') sha256: string | undefined,
    @Req() req: Request,
  ): Promise<UploadView> {
    if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      throw new ValidationFailedError({ 'Upload-Sha256': 'Upload-Sha256 must be a SHA-256 in hex (64 digits)' });
    }
    if (!offset || !/^\d{1,16}$/.test(offset)) {
      throw new ValidationFailedError({ 'Upload-Offset': 'Upload-Offset must be the byte the data starts at' });
    }
    const type = req.headers['content-type'];
    if (type && !/^application\/octet-stream\b/i.test(type)) {
      throw new ValidationFailedError({ 'Content-Type': 'the data must be application/octet-stream' });
    }
    return this.uploads.receive(scope, image, Number(offset), req, sha256);
  }

  @Delete(':image/upload')
  @HttpCode(204)
  @ApiOperation({ summary: 'Cancel an upload: what it made is removed' })
  @V1Delete()
  cancelUpload(@AccessInPath('member') scope: ProjectScope, @PathName('image') image: string): void {
    this.uploads.abort(scope, image);
  }
}
