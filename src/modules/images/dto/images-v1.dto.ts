import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsIn, IsInt, IsOptional, Matches, Min } from 'class-validator';
import { UPLOAD_FORMATS, type UploadFormat } from '../uploads.service';
import { FlagField, IdField, NameField, OptionalNameField } from '../../../common/http/fields';
import { PageOf, PageQueryDto } from '../../../common/http/resources';

export const IMAGE_KINDS = ['golden', 'snapshot'] as const;

@ApiSchema({ name: 'Image' })
export class ImageDto {
  @ApiProperty({ example: 'centos7' }) name: string;
  @ApiProperty({ enum: IMAGE_KINDS, enumName: 'ImageKind', description: 'golden (no parent) or a snapshot of a disk' })
  kind: (typeof IMAGE_KINDS)[number];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'for a snapshot, the image its disk was cloned from',
    example: null,
  })
  parent: string | null;
  @ApiProperty({ example: false }) public: boolean;
  @ApiProperty({ description: 'exported over iSCSI (PUT …/target)', example: false }) exported: boolean;
}
export const ImagePageDto = PageOf(ImageDto, 'ImagePage');

export class ListImagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: IMAGE_KINDS, enumName: 'ImageKind', description: 'only images of this kind' })
  @IsOptional()
  @IsIn(IMAGE_KINDS)
  kind?: (typeof IMAGE_KINDS)[number];
}

@ApiSchema({ name: 'IscsiEndpoint' })
export class IscsiEndpointDto {
  @ApiProperty({ example: '5img12', description: 'the target name (IQN)' }) target: string;
  @ApiProperty({ example: '10.0.0.1:3260' }) portal: string;
  @ApiProperty({ example: 1 }) lun: number;
  @ApiProperty({ example: 'iscsi:10.0.0.1:tcp:3260:1:5img12', description: 'RFC 4173, as iPXE `sanboot` takes it' })
  uri: string;
}

@ApiSchema({ name: 'Disk' })
export class DiskDto {
  @ApiProperty({ example: 'web1' }) name: string;
  @ApiProperty({ example: 'centos7', description: 'the golden image or snapshot it was cloned from' }) image: string;
  @ApiProperty({ example: true, description: 'its iSCSI target exists (false only while it is made)' })
  exported: boolean;
  @ApiProperty({ type: IscsiEndpointDto }) iscsi: IscsiEndpointDto;
}
export const DiskPageDto = PageOf(DiskDto, 'DiskPage');

@ApiSchema({ name: 'NewDisk' })
export class NewDiskDto {
  @NameField('name of the new disk', 'web1') name: string;
  @NameField('golden image or snapshot to clone', 'centos7') image: string;
}

@ApiSchema({ name: 'NewSnapshot' })
export class NewSnapshotDto {
  @NameField('name of the new image (power the node off first: the snapshot is crash-consistent)', 'web1-2026-11')
  name: string;
}

@ApiSchema({ name: 'ImportImageRequest' })
export class ImportImageV1Dto {
  @NameField('the raw RBD image of the pool to import; it becomes the image name', 'centos7') source: string;
  @OptionalNameField('import this existing snapshot of it instead of its current content', 'base') snapshot?: string;
  @FlagField('protect that snapshot for the clone (and unprotect it afterwards)') protect?: boolean;
}

@ApiSchema({ name: 'ExportImageRequest' })
export class ExportImageV1Dto {
  @NameField('name of the new, independent raw RBD image', 'centos7-export') name: string;
}

@ApiSchema({ name: 'CopyImageRequest' })
export class CopyImageV1Dto {
  @OptionalNameField('destination project (default: this one); another project needs an admin', 'proj2')
  dest_project?: string;
  @OptionalNameField('new name (default: the same name)', 'centos7-copy') name?: string;
}

@ApiSchema({ name: 'ImageTarget' })
export class ImageTargetDto {
  @ApiProperty({ example: 'centos7' }) image: string;
  @ApiProperty({ type: IscsiEndpointDto }) iscsi: IscsiEndpointDto;
}

@ApiSchema({ name: 'ImageRecord' })
export class ImageRecordDto {
  @ApiProperty({ example: 12 }) id: number;
  @ApiProperty({ example: 'web1' }) name: string;
  @ApiProperty({ example: 'proj1' }) project: string;
  @ApiProperty({ example: '5img12', description: 'its RBD image in the pool' }) ceph_name: string;
  @ApiProperty({ enum: ['golden', 'snapshot', 'disk'], enumName: 'ImageRecordKind', example: 'disk' }) kind: string;
  @ApiProperty({ example: false }) public: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'centos7', description: 'its parent image, by name' })
  parent: string | null;
}
export const ImageRecordPageDto = PageOf(ImageRecordDto, 'ImageRecordPage');

export class ListImageRecordsQueryDto extends PageQueryDto {
  @OptionalNameField('only this project', 'proj1') project?: string;
  @OptionalNameField('only this image name', 'centos7') name?: string;
  @OptionalNameField('only this RBD image', '5img12') ceph_name?: string;
  @ApiPropertyOptional({ enum: ['golden', 'snapshot', 'disk'], enumName: 'ImageRecordKind' })
  @IsOptional()
  @IsIn(['golden', 'snapshot', 'disk'])
  kind?: 'golden' | 'snapshot' | 'disk';
  @FlagField('only public images') public?: boolean;
}

@ApiSchema({ name: 'NewImageRecord' })
export class NewImageRecordDto {
  @NameField('name of the record', 'centos7') name: string;
  @IdField('explicit id (its RBD image is <uid>img<id>)') id?: number;
  @FlagField('the record is a snapshot') snapshot?: boolean;
  @OptionalNameField('its parent image, by name, in the same project', 'centos7') parent?: string;
  @FlagField('the image is public') public?: boolean;
}

@ApiSchema({ name: 'NewUpload' })
export class NewUploadDto {
  @NameField('name of the new golden image', 'centos7') name: string;
  @ApiProperty({ enum: UPLOAD_FORMATS, enumName: 'UploadFormat', example: 'qcow2' })
  @IsDefined({ message: 'missing field $property' })
  @IsIn(UPLOAD_FORMATS, { message: `$property must be one of ${UPLOAD_FORMATS.join(', ')}` })
  format: UploadFormat;
  @ApiProperty({
    type: Number,
    minimum: 1,
    example: 2147483648,
    description: 'the size of the file as it will be sent',
  })
  @IsDefined({ message: 'missing field $property' })
  @IsInt()
  @Min(1)
  size: number;
  @ApiPropertyOptional({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: '$property must be a SHA-256 in hex (64 digits)' })
  sha256?: string;
}

@ApiSchema({ name: 'Upload' })
export class UploadDto {
  @ApiProperty({ example: 'centos7' }) image: string;
  @ApiProperty({ enum: UPLOAD_FORMATS, enumName: 'UploadFormat', description: 'as it was announced' }) format: string;
  @ApiProperty({ example: 2147483648 }) size: number;
  @ApiProperty({ example: 1073741824, description: 'bytes received: where the next PUT starts' }) received: number;
  @ApiProperty({ description: 'the operation that makes the image' }) operation: string;
}
