import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSuccessText, LegacyApi } from '../../common/http/legacy';
import { Access, AccessRule } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import {
  AddNicDto,
  ChangePasswordDto,
  ConnectNodeDto,
  CreateUserDto,
  DeleteUserDto,
  ListNodesDto,
  ListUsersDto,
  NodeNameDto,
  NodeRowDto,
  RemoveNicDto,
  UserProjectDto,
  UserRowDto,
} from './dto/standalone.dto';
import { NodeRow, StandaloneAdminService, UserRow } from './standalone-admin.service';
import { standaloneOnly } from './standalone-mode';

/** Any user may change their own password (they authenticate with the current one); anyone else's needs an admin. */
const ownPasswordOrAdmin: AccessRule = (body, caller) =>
  body.user === caller.credentials.username ? 'authenticated' : 'admin';

/**
 * Users, project members, nodes and NICs, for sites without HIL (`[driver] net_isolator = standalone`; BMI
 * extension). Admin only, except a user changing their own password. In any other mode every route answers
 * 409 `standalone mode is off …`.
 */
@ApiTags('standalone')
@LegacyApi()
@Controller()
export class StandaloneController {
  constructor(private readonly admin: StandaloneAdminService) {}

  @Post('list_users')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every user, with its admin flag and projects (admin, standalone mode)' })
  @ApiOkResponse({ type: [UserRowDto] })
  listUsers(@Access('admin', standaloneOnly) _scope: ProjectScope, @Body() _dto: ListUsersDto): Promise<UserRow[]> {
    return this.admin.listUsers();
  }

  @Put('create_user')
  @ApiOperation({ summary: 'Create a user (admin, standalone mode)' })
  @ApiOkResponse({ type: UserRowDto })
  createUser(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: CreateUserDto): Promise<UserRow> {
    return this.admin.createUser(scope, dto.user, dto.password, !!dto.is_admin);
  }

  @Delete('delete_user')
  @ApiOperation({ summary: 'Delete a user and its memberships; not the last admin (admin, standalone mode)' })
  @ApiSuccessText()
  deleteUser(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: DeleteUserDto): Promise<void> {
    return this.admin.deleteUser(scope, dto.user);
  }

  @Put('change_password')
  @ApiOperation({ summary: "Change a user's password: one's own, or anyone's as an admin (standalone mode)" })
  @ApiSuccessText()
  changePassword(
    @Access(ownPasswordOrAdmin, standaloneOnly) scope: ProjectScope,
    @Body() dto: ChangePasswordDto,
  ): Promise<void> {
    return this.admin.changePassword(scope, dto.user, dto.new_password);
  }

  @Put('add_user_project')
  @ApiOperation({ summary: 'Make a user a member of a project (admin, standalone mode)' })
  @ApiSuccessText()
  addUserToProject(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: UserProjectDto): Promise<void> {
    return this.admin.addUserToProject(scope, dto.user, dto.target_project);
  }

  @Delete('remove_user_project')
  @ApiOperation({ summary: 'Remove a user from a project (admin, standalone mode)' })
  @ApiSuccessText()
  removeUserFromProject(
    @Access('admin', standaloneOnly) scope: ProjectScope,
    @Body() dto: UserProjectDto,
  ): Promise<void> {
    return this.admin.removeUserFromProject(scope, dto.user, dto.target_project);
  }

  @Post('list_nodes')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every node, with its project and NICs (admin, standalone mode)' })
  @ApiOkResponse({ type: [NodeRowDto] })
  listNodes(@Access('admin', standaloneOnly) _scope: ProjectScope, @Body() _dto: ListNodesDto): Promise<NodeRow[]> {
    return this.admin.listNodes();
  }

  @Put('register_node')
  @ApiOperation({ summary: 'Register a node, free (admin, standalone mode)' })
  @ApiOkResponse({ type: NodeRowDto })
  registerNode(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: NodeNameDto): Promise<NodeRow> {
    return this.admin.registerNode(scope, dto.node);
  }

  @Delete('delete_node')
  @ApiOperation({ summary: 'Delete a free node and its NICs (admin, standalone mode)' })
  @ApiSuccessText()
  deleteNode(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: NodeNameDto): Promise<void> {
    return this.admin.deleteNode(scope, dto.node);
  }

  @Put('add_nic')
  @ApiOperation({ summary: 'Add a NIC to a node (admin, standalone mode)' })
  @ApiSuccessText()
  addNic(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: AddNicDto): Promise<void> {
    return this.admin.addNic(scope, dto.node, dto.nic, dto.macaddr);
  }

  @Delete('remove_nic')
  @ApiOperation({ summary: 'Remove a NIC from a node (admin, standalone mode)' })
  @ApiSuccessText()
  removeNic(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: RemoveNicDto): Promise<void> {
    return this.admin.removeNic(scope, dto.node, dto.nic);
  }

  @Put('connect_node')
  @ApiOperation({ summary: 'Give a free node to a project (admin, standalone mode)' })
  @ApiSuccessText()
  connectNode(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: ConnectNodeDto): Promise<void> {
    return this.admin.connectNode(scope, dto.node, dto.target_project);
  }

  @Delete('detach_node')
  @ApiOperation({ summary: 'Take a node away from its project: it becomes free (admin, standalone mode)' })
  @ApiSuccessText()
  detachNode(@Access('admin', standaloneOnly) scope: ProjectScope, @Body() dto: NodeNameDto): Promise<void> {
    return this.admin.detachNode(scope, dto.node);
  }
}
