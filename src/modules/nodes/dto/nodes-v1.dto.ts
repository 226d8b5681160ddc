import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { NameField, NicField } from '../../../common/http/fields';

@ApiSchema({ name: 'BootRequest' })
export class BootRequestDto {
  @NameField('the disk to boot from (exported)', 'web1') disk: string;
  @NicField('the label in HIL of the NIC the node PXE-boots from') nic: string;
}

export class NicQueryDto {
  @NicField('the NIC (its label in HIL); default: the one the node is provisioned with, or any', true) nic?: string;
}

@ApiSchema({ name: 'BootState' })
export class BootStateDto {
  @ApiProperty({ example: 'node-01' }) node: string;
  @ApiProperty({ example: 'web1' }) disk: string;
  @ApiProperty({ example: 'eth0' }) nic: string;
  @ApiProperty({ example: '52:54:00:12:34:56' }) mac: string;
  @ApiProperty({ example: '5img12', description: 'the iSCSI target its iPXE script boots from' }) target: string;
}

@ApiSchema({ name: 'NodeIp' })
export class NodeIpDto {
  @ApiProperty({ example: 'node-01' }) node: string;
  @ApiProperty({ example: '10.0.0.23' }) ip: string;
}
