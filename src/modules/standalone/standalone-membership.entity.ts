import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';
import { StandaloneUserEntity } from './standalone-user.entity';

/** A user's membership of a BMI project (standalone mode); gone with the user or with the project. */
@Entity({ name: 'standalone_user_project' })
export class StandaloneMembershipEntity {
  @PrimaryColumn({ name: 'user_id', type: 'integer' })
  userId: number;

  @PrimaryColumn({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => StandaloneUserEntity, (u) => u.memberships, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: StandaloneUserEntity;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;
}
