import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { PathName } from '../../common/http/fields';
import { IfMatch, ifMatches } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Delete, V1Launch } from '../../common/http/v1-routes';
import { OperationRowDto } from '../operations/dto/operations.dto';
import { OperationRow } from '../operations/operation-journal.service';
import { OperationLauncher, operationPath } from '../operations/operation-launcher';
import { Deployment, DeploymentsService } from './deployments.service';
import { AccessInPath } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import {
  BootRequestDto,
  BootStateDto,
  DeploymentDto,
  NewDeploymentDto,
  NicQueryDto,
  NodeIpDto,
  PowerDto,
  PowerRequestDto,
} from './dto/nodes-v1.dto';
import { BootState, NodesService } from './nodes.service';
import { NotProvisionedError } from '../tftp/tftp.errors';

/** A node's boot: which disk its next PXE boot comes up on. Only nodes HIL says are the project's. */
@V1Api('nodes')
@ApiProjectParam()
@Controller(`${V1}/projects/:project/nodes/:node`)
export class NodesV1Controller {
  constructor(
    private readonly nodes: NodesService,
    private readonly deployments: DeploymentsService,
    private readonly launcher: OperationLauncher,
  ) {}

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

  @Get('power')
  @ApiOperation({ summary: "The node's power, as its BMC tells it (through HIL)" })
  @ApiOkResponse({ type: PowerDto })
  @ApiErrors(403, 409, 502)
  async getNodePower(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
  ): Promise<PowerDto> {
    return { node, state: await this.nodes.powerStatus(scope, node) };
  }

  @Post('power')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch the node on or off, or cycle it (through HIL, as its owner)' })
  @ApiOkResponse({ type: PowerDto, description: 'the state the node was switched to' })
  @ApiErrors(403, 409, 502)
  async setNodePower(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Body() dto: PowerRequestDto,
  ): Promise<PowerDto> {
    await this.nodes.power(scope, node, dto.action);
    return { node, state: dto.action === 'off' ? 'off' : 'on' };
  }

  @Post('deployment')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Boot the node from a new clone of an image: make the disk, write the boot files, power-cycle it',
  })
  @V1Launch(OperationRowDto, 403, 502)
  async deployNode(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Body() dto: NewDeploymentDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    const op = await this.launcher.launch(() => this.deployments.deploy(scope, node, dto));
    setLocation(res, operationPath(op));
    return op;
  }

  @Get('deployment')
  @ApiOperation({ summary: 'What the node was deployed with, and whether it is on its disk now' })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(403)
  getDeployment(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
  ): Promise<Deployment> {
    return this.deployments.deployment(scope, node);
  }

  @Delete('deployment')
  @HttpCode(202)
  @ApiOperation({ summary: 'Release the node: power it off, remove its boot files, delete its disk' })
  @ApiAcceptedResponse({
    type: OperationRowDto,
    description: 'the operation, to poll until it ends',
    headers: { Location: { description: 'the operation', schema: { type: 'string' } } },
  })
  @ApiErrors(403, 409, 502)
  async releaseNode(
    @AccessInPath('member') scope: ProjectScope,
    @PathName('node', 'node') node: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationRow> {
    const op = await this.launcher.launch(() => this.deployments.release(scope, node));
    setLocation(res, operationPath(op));
    return op;
  }

  /** The boot state, or null when the node is not provisioned (the version If-Match compares with). */
  private current(scope: ProjectScope, node: string): Promise<BootState | null> {
    return this.nodes.findBootState(scope, node);
  }
}
