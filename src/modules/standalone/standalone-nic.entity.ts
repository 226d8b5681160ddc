import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { StandaloneNodeEntity } from './standalone-node.entity';

/**
 * A NIC of a node (standalone mode). The label is unique per node, the MAC (stored lower-cased) unique
 * everywhere; the id keeps the registration order.
 */
@Entity({ name: 'standalone_nic' })
@Unique('UQ_standalone_nic_node_label', ['nodeId', 'label'])
export class StandaloneNicEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'node_id', type: 'integer' })
  nodeId: number;

  @ManyToOne(() => StandaloneNodeEntity, (n) => n.nics, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'node_id' })
  node?: StandaloneNodeEntity;

  @Column({ type: 'varchar' })
  label: string;

  @Column({ type: 'varchar', unique: true })
  macaddr: string;
}
