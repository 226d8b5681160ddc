import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';
import type { StandaloneNicEntity } from './standalone-nic.entity';

/** A bare-metal node (standalone mode): owned by one BMI project, or free (project null). */
@Entity({ name: 'standalone_node' })
export class StandaloneNodeEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', unique: true })
  name: string;

  @Column({ name: 'project_id', type: 'integer', nullable: true })
  projectId: number | null;

  @ManyToOne(() => ProjectEntity, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity | null;

  @OneToMany('StandaloneNicEntity', (nic: StandaloneNicEntity) => nic.node)
  nics?: StandaloneNicEntity[];
}
