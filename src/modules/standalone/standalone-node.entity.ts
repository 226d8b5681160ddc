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

  /** its BMC (`ipmitool -H`), and the account there when not `[power] ipmi_user`/`ipmi_password` */
  @Column({ name: 'bmc_address', type: 'varchar', length: 253, nullable: true })
  bmcAddress: string | null;

  @Column({ name: 'bmc_username', type: 'varchar', length: 64, nullable: true })
  bmcUsername: string | null;

  @Column({ name: 'bmc_password', type: 'varchar', length: 128, nullable: true })
  bmcPassword: string | null;

  @OneToMany('StandaloneNicEntity', (nic: StandaloneNicEntity) => nic.node)
  nics?: StandaloneNicEntity[];
}
