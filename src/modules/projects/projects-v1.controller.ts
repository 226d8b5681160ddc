import { Body, Controller, Delete, Get, Post, Query, Res, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Response } from 'express';
import { Page, paginate, PageQueryDto, IfMatch, ifMatches } from '../../common/http/resources';
import { ApiErrors, ApiProjectParam, V1, V1Api } from '../../common/http/v1-face';
import { setLocation, V1Create, V1Delete } from '../../common/http/v1-routes';
import { AccessInPath, AdminAccess } from '../access/access.decorator';
import type { ProjectScope } from '../access/access-level';
import { NewProjectDto, ProjectDto, ProjectPageDto } from './dto/projects-v1.dto';
import { ProjectRow, ProjectsService } from './projects.service';

/** BMI's projects (each a HIL project): listed, added and deleted by admins, read by their members. */
@V1Api('projects')
@Controller(`${V1}/projects`)
export class ProjectsV1Controller {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @ApiOperation({ summary: 'Every project (admin)' })
  @ApiOkResponse({ type: ProjectPageDto })
  @ApiErrors(403)
  async listProjects(@AdminAccess() _: ProjectScope, @Query() query: PageQueryDto): Promise<Page<ProjectRow>> {
    return paginate(await this.projects.list(), (p) => p.name, query);
  }

  @Post()
  @ApiOperation({ summary: 'Add a project (admin)' })
  @V1Create(ProjectDto, 403)
  async createProject(
    @AdminAccess() _: ProjectScope,
    @Body() dto: NewProjectDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProjectRow> {
    const row = await this.projects.add(dto.name, dto.id);
    setLocation(res, `/${V1}/projects/${row.name}`);
    return row;
  }

  @Get(':project')
  @ApiProjectParam()
  @ApiOperation({ summary: 'One project (its members, or an admin)' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiErrors()
  getProject(@AccessInPath('member') scope: ProjectScope): ProjectRow {
    return { id: scope.project.id, name: scope.project.name };
  }

  @Delete(':project')
  @ApiProjectParam()
  @ApiOperation({ summary: 'Delete an empty project (admin)' })
  @HttpCode(204)
  @V1Delete(403, 412)
  async deleteProject(@AccessInPath('admin') scope: ProjectScope, @IfMatch() ifMatch?: string): Promise<void> {
    await this.projects.delete(
      scope.project.name,
      ifMatches(ifMatch, async () => ({ id: scope.project.id, name: scope.project.name })),
    );
  }
}
