import { Column, Entity, PrimaryColumn } from 'typeorm';
import { msTime } from '../../database/dialect';

/**
 * The first answer to a request sent with an `Idempotency-Key`, per caller: `status` null while that request
 * runs. `request` is a hash of its method, path and body, so that the key cannot be reused for another request.
 */
@Entity({ name: 'idempotency_key' })
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  actor: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  key: string;

  @Column({ type: 'varchar', length: 64 })
  request: string;

  @Column({ type: 'integer', nullable: true })
  status: number | null;

  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  location: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: msTime })
  createdAt: number;
}
