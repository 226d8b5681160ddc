import { Column, Entity, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { ImageEntity } from '../images/image.entity';

/** A BMI project (reference §4.1). Its name is the HIL project name. */
@Entity({ name: 'project' })
export class ProjectEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', unique: true })
  name: string;

  @OneToMany('ImageEntity', (image: ImageEntity) => image.project)
  images?: ImageEntity[];
}
