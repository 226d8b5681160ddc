import { NameField, NicField, NodeField, ProjectScopedDto } from '../../../common/http/fields';

export class ProvisionDto extends ProjectScopedDto {
  @NodeField('HIL node name; the node must belong to the project')
  node: string;

  @NameField('the disk the node boots from')
  disk_name: string;

  @NicField('label of the NIC the node PXE-boots from')
  nic: string;
}

export class DeprovisionDto extends ProjectScopedDto {
  @NodeField('HIL node name; the node must belong to the project')
  node: string;

  @NicField('label of the NIC the node PXE-boots from')
  nic: string;
}

export class NodeIpDto extends ProjectScopedDto {
  @NodeField('HIL node name; the node must belong to the project')
  node: string;

  @NicField('label of the NIC to look up; default: any NIC of the node', true)
  nic?: string;
}
