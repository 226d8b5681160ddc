import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IdField, NameField } from '../../../common/http/fields';
import { PageOf } from '../../../common/http/resources';

@ApiSchema({ name: 'Project' })
export class ProjectDto {
  @ApiProperty({ example: 3 }) id: number;
  @ApiProperty({ example: 'proj1' }) name: string;
}
export const ProjectPageDto = PageOf(ProjectDto, 'ProjectPage');

@ApiSchema({ name: 'NewProject' })
export class NewProjectDto {
  @NameField('name of the new project (its HIL project name)', 'proj1') name: string;
  @IdField('explicit project id') id?: number;
}
