import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSuccessText, LegacyApi } from '../../common/http/legacy';
import { Access } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { AddProjectDto, DeleteProjectDto, ListProjectsDto, ProjectRowDto } from './dto/projects.dto';
import { ProjectRow, ProjectsService } from './projects.service';

/**
 * Project administration (admin only): what the original's CLI did in-process (BMI extension). Like every
 * call, it acts from a project BMI knows (`project`, 404 otherwise).
 */
@ApiTags('projects')
@LegacyApi()
@Controller()
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post('list_projects')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every project (admin)' })
  @ApiOkResponse({ type: [ProjectRowDto] })
  listProjects(@Access('admin') _: ProjectScope, @Body() _dto: ListProjectsDto): Promise<ProjectRow[]> {
    return this.projects.list();
  }

  @Put('add_project')
  @ApiOperation({ summary: 'Add a project (admin)' })
  @ApiOkResponse({ type: ProjectRowDto })
  addProject(@Access('admin') _: ProjectScope, @Body() dto: AddProjectDto): Promise<ProjectRow> {
    return this.projects.add(dto.name, dto.id);
  }

  @Delete('delete_project')
  @ApiOperation({ summary: 'Delete an empty project (admin)' })
  @ApiSuccessText()
  deleteProject(@Access('admin') _: ProjectScope, @Body() dto: DeleteProjectDto): Promise<void> {
    return this.projects.delete(dto.name);
  }
}
