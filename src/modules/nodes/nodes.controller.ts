import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSuccessText, LegacyApi } from '../../common/http/legacy';
import { Access } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { DeprovisionDto, NodeIpDto, ProvisionDto } from './dto/nodes.dto';
import { NodesService } from './nodes.service';

/** Pointing a node's network boot at a disk and back: the original BMI routes (reference §2.2). */
@ApiTags('nodes')
@LegacyApi()
@Controller()
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Put('provision')
  @ApiOperation({ summary: "Write the node's boot files so that it boots from the disk" })
  @ApiSuccessText()
  provisionNode(@Access('member') scope: ProjectScope, @Body() dto: ProvisionDto): Promise<void> {
    return this.nodes.provision(scope, dto.node, dto.disk_name, dto.nic);
  }

  @Delete('deprovision')
  @ApiOperation({ summary: "Remove the node's boot files (the disk stays)" })
  @ApiSuccessText()
  deprovisionNode(@Access('member') scope: ProjectScope, @Body() dto: DeprovisionDto): Promise<void> {
    return this.nodes.deprovision(scope, dto.node, dto.nic);
  }

  @Post('node_ip')
  @HttpCode(200)
  @ApiOperation({ summary: 'The IP dnsmasq leased to the node (BMI extension)' })
  @ApiOkResponse({ description: 'the IP address, as a JSON string', schema: { type: 'string' } })
  getNodeIp(@Access('member') scope: ProjectScope, @Body() dto: NodeIpDto): Promise<string> {
    return this.nodes.nodeIp(scope, dto.node, dto.nic);
  }
}
