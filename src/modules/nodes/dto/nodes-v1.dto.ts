import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsIn } from 'class-validator';
import { NameField, NicField, OptionalNameField } from '../../../common/http/fields';
import { POWER_ACTIONS, type PowerAction, type PowerState } from '../../power/power.driver';

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

@ApiSchema({ name: 'PowerRequest' })
export class PowerRequestDto {
  @ApiProperty({
    enum: POWER_ACTIONS,
    enumName: 'PowerAction',
    example: 'cycle',
    description: 'off and on again: cycle',
  })
  @IsDefined({ message: 'missing field $property' })
  @IsIn(POWER_ACTIONS, { message: `$property must be one of ${POWER_ACTIONS.join(', ')}` })
  action: PowerAction;
}

@ApiSchema({ name: 'Power' })
export class PowerDto {
  @ApiProperty({ example: 'node-01' }) node: string;
  @ApiProperty({ enum: ['on', 'off'], enumName: 'PowerState', example: 'on' }) state: PowerState;
}

@ApiSchema({ name: 'NewDeployment' })
export class NewDeploymentDto {
  @NameField('the golden image or snapshot the node boots a clone of', 'centos7') image: string;
  @OptionalNameField("the new disk's name (default: the node's)", 'web1') disk?: string;
  @NicField('the label in HIL of the NIC the node PXE-boots from (default: its first NIC)', true) nic?: string;
}

@ApiSchema({ name: 'Deployment' })
export class DeploymentDto {
  @ApiProperty({ example: 'node-01' }) node: string;
  @ApiProperty({ example: 'web1' }) disk: string;
  @ApiProperty({ example: 'centos7', description: 'what the disk was cloned from' }) image: string;
  @ApiProperty({ example: 'eth0' }) nic: string;
  @ApiProperty({ example: 'iqn.2026-11.org.bmi:5img12' }) target: string;
  @ApiProperty({ description: "an initiator is logged in to the disk's target: the node booted from it and is up" })
  attached: boolean;
  @ApiProperty({ type: String, nullable: true, example: '10.0.0.23', description: 'its DHCP lease, if any' })
  ip: string | null;
}
