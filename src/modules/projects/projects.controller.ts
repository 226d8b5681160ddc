import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSuccessText, CallerCredentials, LegacyApi } from '../../common/http/legacy';
import type { Credentials } from '../../common/auth/caller';
import { AddProjectDto, DeleteProjectDto, ListProjectsDto, ProjectRowDto } from './dto/projects.dto';
import { ProjectAdminService } from './project-admin.service';
import { ProjectRow } from './projects.service';

/** Project administration (admin only): what the original's CLI did in-process (BMI extension). */
@ApiTags('projects')
@LegacyApi()
@Controller()
export class ProjectsController {
  constructor(private readonly admin: ProjectAdminService) {}

  @Post('list_projects')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every project (admin)' })
  @ApiOkResponse({ type: [ProjectRowDto] })
  listProjects(@CallerCredentials() c: Credentials, @Body() dto: ListProjectsDto): Promise<ProjectRow[]> {
    return this.admin.list({ credentials: c, project: dto.project });
  }

  @Put('add_project')
  @ApiOperation({ summary: 'Add a project (admin)' })
  @ApiOkResponse({ type: ProjectRowDto })
  addProject(@CallerCredentials() c: Credentials, @Body() dto: AddProjectDto): Promise<ProjectRow> {
    return this.admin.add({ credentials: c, project: dto.project }, dto.name, dto.id);
  }

  @Delete('delete_project')
  @ApiOperation({ summary: 'Delete an empty project (admin)' })
  @ApiSuccessText()
  deleteProject(@CallerCredentials() c: Credentials, @Body() dto: DeleteProjectDto): Promise<void> {
    return this.admin.delete({ credentials: c, project: dto.project }, dto.name);
  }
}
