import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';

/**
 * One row per BMI image (reference §4.2). The kind is implied by the columns:
 * - golden / imported / cross-project copy: parent null, is_snapshot false;
 * - disk (a clone a node boots from): parent = source image, is_snapshot false;
 * - snapshot: parent = the disk's source image, is_snapshot true.
 * Its Ceph name is `<uid>img<id>`, so the id must never be reused (AUTOINCREMENT).
 * `exported`: the image should have an iSCSI target (every disk, and images mounted with mount_image); the
 * target reconciler re-creates the missing ones.
 */
@Entity({ name: 'image' })
@Unique('_project_id_image_name_unique_constraint', ['projectId', 'name'])
export class ImageEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  name: string;

  @Column({ name: 'is_public', type: 'boolean', default: false })
  isPublic: boolean;

  @Column({ name: 'is_snapshot', type: 'boolean', default: false })
  isSnapshot: boolean;

  @Column({ name: 'exported', type: 'boolean', default: false })
  exported: boolean;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => ProjectEntity, (p) => p.images, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  @Column({ name: 'parent_id', type: 'integer', nullable: true })
  parentId: number | null;

  @ManyToOne(() => ImageEntity, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id' })
  parent?: ImageEntity | null;
}
