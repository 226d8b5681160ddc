import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { msTime } from '../../database/dialect';

/**
 * running; done; rolled_back (a step failed and the others were undone, or recovery undid them); failed (an
 * undo failed too: manual cleanup); interrupted (its instance died; recovery pending); rolled_forward
 * (interrupted after an irreversible step, which recovery completed).
 */
export type OperationState = 'running' | 'done' | 'rolled_back' | 'failed' | 'interrupted' | 'rolled_forward';

/**
 * One multi-step operation (create_disk, provision, …): its intent, its steps as they happened, and how it
 * ended. A `running` operation belongs to the instance named in `owner` while `lease_until` is in the future;
 * the owner renews the lease while it works, so that an operation whose lease lapsed was cut short (a crash,
 * a kill) and is marked `interrupted`. Times are ms since the epoch (portable across SQLite and PostgreSQL).
 */
@Entity({ name: 'operation' })
@Index('operation_state_idx', ['state'])
export class OperationEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  kind: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  project: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  actor: string | null;

  /** JSON: the names the operation acts on */
  @Column({ type: 'text' })
  args: string;

  @Column({ type: 'varchar', length: 16 })
  state: OperationState;

  /** JSON: StepRecord[] (common/orchestration/journal) in the order they started */
  @Column({ type: 'text' })
  steps: string;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** JSON `{ step, done, total }`: how far the step that reports progress (a flatten) got; null before any */
  @Column({ type: 'text', nullable: true })
  progress?: string | null;

  @Column({ type: 'varchar', length: 128 })
  owner: string;

  /** the owner's storage session (its Ceph client address), which recovery fences; null without one */
  @Column({ type: 'varchar', length: 256, nullable: true })
  client: string | null;

  @Column({ name: 'lease_until', type: 'bigint', transformer: msTime })
  leaseUntil: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: msTime })
  startedAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: msTime })
  updatedAt: number;
}
