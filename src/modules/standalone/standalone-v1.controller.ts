import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { PathName } from '../../common/http/fields';
import { Page, paginate, PageQueryDto } from '../../common/http/resources';
import { ApiErrors, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Create, V1Delete } from '../../common/http/v1-routes';
import { AccessRule, AccessWithoutProject, AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import {
  NewNicDto,
  NewNodeDto,
  NewPasswordDto,
  NewUserDto,
  NicDto,
  NodeBmcDto,
  NodeDto,
  NodePageDto,
  NodeProjectDto,
  UserDto,
  UserPageDto,
} from './dto/standalone-v1.dto';
import { NodeRow, StandaloneAdminService, UserRow } from './standalone-admin.service';
import { standaloneOnly } from './standalone-mode';

/** Any user may change their own password (they authenticate with the current one); anyone else's needs an admin. */
const ownPasswordOrAdmin: AccessRule = (fields, caller) =>
  fields.user === caller.credentials.username ? 'authenticated' : 'admin';

const user = (u: UserRow): UserDto => ({ name: u.name, admin: u.isAdmin, projects: u.projects });
const node = (n: NodeRow): NodeDto => ({
  name: n.name,
  project: n.project,
  nics: n.nics.map((nic) => ({ label: nic.label, mac: nic.macaddr })),
});

/**
 * Users, project members, nodes and NICs, for sites without HIL (`[driver] net_isolator = standalone`). Admins
 * only, except a user changing their own password; 409 STANDALONE_MODE_OFF in any other mode.
 */
@V1Api('standalone')
@Controller(V1)
export class StandaloneV1Controller {
  constructor(private readonly admin: StandaloneAdminService) {}

  @Get('users')
  @ApiOperation({ summary: 'Every user, with its admin flag and projects (admin)' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiErrors(403, 409)
  async listUsers(@AdminAccess(standaloneOnly) _: ProjectScope, @Query() q: PageQueryDto): Promise<Page<UserDto>> {
    return paginate((await this.admin.listUsers()).map(user), (u) => u.name, q);
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a user (admin)' })
  @V1Create(UserDto, 403)
  async createUser(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @Body() dto: NewUserDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UserDto> {
    const row = await this.admin.createUser(scope, dto.name, dto.password, dto.admin === true);
    setLocation(res, `/${V1}/users/${row.name}`);
    return user(row);
  }

  @Delete('users/:user')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user and its memberships; not the last admin (admin)' })
  @V1Delete(403)
  deleteUser(@AdminAccess(standaloneOnly) scope: ProjectScope, @PathName('user') name: string): Promise<void> {
    return this.admin.deleteUser(scope, name);
  }

  @Put('users/:user/password')
  @HttpCode(204)
  @ApiOperation({ summary: "Change a user's password: one's own, or anyone's as an admin" })
  @ApiNoContentResponse({ description: 'changed' })
  @ApiErrors(403, 409)
  changePassword(
    @AccessWithoutProject(ownPasswordOrAdmin, standaloneOnly) scope: ProjectScope,
    @PathName('user') name: string,
    @Body() dto: NewPasswordDto,
  ): Promise<void> {
    return this.admin.changePassword(scope, name, dto.password);
  }

  @Put('users/:user/projects/:project')
  @HttpCode(204)
  @ApiOperation({ summary: 'Make a user a member of a project (admin)' })
  @ApiNoContentResponse({ description: 'a member now' })
  @ApiErrors(403, 409)
  grantProject(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('user') name: string,
    @PathName('project') project: string,
  ): Promise<void> {
    return this.admin.addUserToProject(scope, name, project);
  }

  @Delete('users/:user/projects/:project')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a user from a project (admin)' })
  @V1Delete(403)
  revokeProject(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('user') name: string,
    @PathName('project') project: string,
  ): Promise<void> {
    return this.admin.removeUserFromProject(scope, name, project);
  }

  @Get('nodes')
  @ApiOperation({ summary: 'Every node, with its project and NICs (admin)' })
  @ApiOkResponse({ type: NodePageDto })
  @ApiErrors(403, 409)
  async listNodes(@AdminAccess(standaloneOnly) _: ProjectScope, @Query() q: PageQueryDto): Promise<Page<NodeDto>> {
    return paginate((await this.admin.listNodes()).map(node), (n) => n.name, q);
  }

  @Post('nodes')
  @ApiOperation({ summary: 'Register a node, free (admin)' })
  @V1Create(NodeDto, 403)
  async registerNode(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @Body() dto: NewNodeDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<NodeDto> {
    const row = await this.admin.registerNode(scope, dto.name);
    setLocation(res, `/${V1}/nodes/${row.name}`);
    return node(row);
  }

  @Delete('nodes/:node')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a free node and its NICs (admin)' })
  @V1Delete(403)
  deleteNode(@AdminAccess(standaloneOnly) scope: ProjectScope, @PathName('node', 'node') name: string): Promise<void> {
    return this.admin.deleteNode(scope, name);
  }

  @Post('nodes/:node/nics')
  @ApiOperation({ summary: 'Add a NIC to a node (admin)' })
  @V1Create(NicDto, 403)
  async addNic(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('node', 'node') name: string,
    @Body() dto: NewNicDto,
  ): Promise<NicDto> {
    await this.admin.addNic(scope, name, dto.label, dto.mac);
    return { label: dto.label, mac: dto.mac.toLowerCase() };
  }

  @Delete('nodes/:node/nics/:nic')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a NIC from a node (admin)' })
  @V1Delete(403)
  removeNic(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('node', 'node') name: string,
    @PathName('nic', 'nic') nic: string,
  ): Promise<void> {
    return this.admin.removeNic(scope, name, nic);
  }

  @Put('nodes/:node/project')
  @HttpCode(204)
  @ApiOperation({ summary: 'Give a free node to a project (admin)' })
  @ApiNoContentResponse({ description: 'the project’s now' })
  @ApiErrors(403, 409)
  connectNode(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('node', 'node') name: string,
    @Body() dto: NodeProjectDto,
  ): Promise<void> {
    return this.admin.connectNode(scope, name, dto.project);
  }

  @Put('nodes/:node/bmc')
  @HttpCode(204)
  @ApiOperation({ summary: "Record the node's BMC, which its power requests go to (admin)" })
  @ApiNoContentResponse({ description: 'recorded' })
  @ApiErrors(403, 409)
  setNodeBmc(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('node', 'node') name: string,
    @Body() dto: NodeBmcDto,
  ): Promise<void> {
    return this.admin.setBmc(scope, name, { address: dto.address, username: dto.username, password: dto.password });
  }

  @Delete('nodes/:node/bmc')
  @HttpCode(204)
  @ApiOperation({ summary: "Forget the node's BMC (admin)" })
  @V1Delete(403)
  deleteNodeBmc(
    @AdminAccess(standaloneOnly) scope: ProjectScope,
    @PathName('node', 'node') name: string,
  ): Promise<void> {
    return this.admin.setBmc(scope, name, null);
  }

  @Delete('nodes/:node/project')
  @HttpCode(204)
  @ApiOperation({ summary: 'Take a node away from its project: it becomes free (admin)' })
  @V1Delete(403)
  detachNode(@AdminAccess(standaloneOnly) scope: ProjectScope, @PathName('node', 'node') name: string): Promise<void> {
    return this.admin.detachNode(scope, name);
  }
}
