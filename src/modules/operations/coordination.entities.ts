import { Column, Entity, PrimaryColumn } from 'typeorm';
import { msTime } from '../../database/dialect';

/**
 * One lock taken by one holder (DatabaseLocks): held while its lease is in the future (the instance renews it)
 * or while the operation of the same id is unfinished (running or interrupted), whatever became of its instance.
 */
@Entity({ name: 'resource_lock' })
export class ResourceLockEntity {
  @PrimaryColumn({ type: 'varchar', length: 300 })
  key: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  holder: string;

  @Column({ type: 'varchar', length: 9 })
  mode: 'shared' | 'exclusive';

  @Column({ type: 'varchar', length: 128 })
  instance: string;

  @Column({ name: 'lease_until', type: 'bigint', transformer: msTime })
  leaseUntil: number;
}

/** A named lease: the instance `holder` does the named job until `lease_until`, unless it renews it. */
@Entity({ name: 'lease' })
export class LeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'varchar', length: 128 })
  holder: string;

  @Column({ name: 'lease_until', type: 'bigint', transformer: msTime })
  leaseUntil: number;
}
