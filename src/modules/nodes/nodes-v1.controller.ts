import { Body, Controller, Delete, Get, HttpCode, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { PathName } from '../../common/http/fields';
import { IfMatch, ifMatches } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { V1Delete } from '../../common/http/v1-routes';
import { AccessInPath } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { BootRequestDto, BootStateDto, NicQueryDto, NodeIpDto } from './dto/nodes-v1.dto';
import { BootState, NodesService } from './nodes.service';
import { NotProvisionedError } from '../tftp/tftp.errors';

/** A node's boot: which disk its next PXE boot comes up on. Only nodes HIL says are the project's. */
@V1Api('nodes')
@ApiProjectParam()
@Controller(`${V1}/projects/:project/nodes/:node`)
export class NodesV1Controller {
  constructor(private readonly nodes: NodesService) {}

  @Get('boot')
  @ApiOperation({ summary: 'What the node boots from' })
  @ApiOkResponse({ type: BootStateDto })
  @ApiErrors(403)
  getBoot(@AccessInPath('member') scope: ProjectScope, @PathName('node', 'node') node: string): Promise<BootState> {
    return this.nodes.bootState(scope, node);
  }

  @Put('boot')
  @HttpCode(200)
  @ApiOperation({ summary: 'Boot the node from a disk: writes its PXE and iPXE boot files' })
  @ApiOkResponse({ type: BootStateDto })
  @ApiErrors(403, 409, 412)
  async putBoot(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Body() dto: BootRequestDto,
    @IfMatch() ifMatch?: string,
  ): Promise<BootState> {
    await this.nodes.provision(
      scope,
      node,
      dto.disk,
      dto.nic,
      ifMatches(ifMatch, () => this.current(scope, node)),
    );
    return this.nodes.bootState(scope, node);
  }

  @Delete('boot')
  @ApiOperation({ summary: 'Stop booting the node from its disk: removes its boot files (the disk stays)' })
  @HttpCode(204)
  @V1Delete(403, 412)
  async deleteBoot(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Query() query: NicQueryDto,
    @IfMatch() ifMatch?: string,
  ): Promise<void> {
    const nic = query.nic ?? (await this.current(scope, node))?.nic;
    if (nic === undefined) throw new NotProvisionedError(`Node ${node} is not provisioned`);
    await this.nodes.deprovision(
      scope,
      node,
      nic,
      ifMatches(ifMatch, () => this.current(scope, node)),
    );
  }

  @Get('ip')
  @ApiOperation({ summary: 'The IP address DHCP gave the node' })
  @ApiOkResponse({ type: NodeIpDto })
  @ApiErrors(403)
  async getNodeIp(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Query() query: NicQueryDto,
  ): Promise<NodeIpDto> {
    return { node, ip: await this.nodes.nodeIp(scope, node, query.nic) };
  }

  /** The boot state, or null when the node is not provisioned (the version If-Match compares with). */
  private async current(scope: ProjectScope, node: string): Promise<BootState | null> {
    try {
      return await this.nodes.bootState(scope, node);
    } catch (e) {
      if (e instanceof NotProvisionedError) return null;
      throw e;
    }
  }
}
