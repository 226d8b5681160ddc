import { IdField, NameField, ProjectScopedDto } from '../../../common/http/fields';

export class ListProjectsDto extends ProjectScopedDto {}

export class AddProjectDto extends ProjectScopedDto {
  @NameField('name of the new project (its HIL project name)')
  name: string;

  @IdField('explicit project id')
  id?: number;
}

export class DeleteProjectDto extends ProjectScopedDto {
  @NameField('name of the project to delete; it must have no images')
  name: string;
}

export class ProjectRowDto {
  id: number;
  name: string;
}
