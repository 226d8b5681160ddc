import { Column, Entity, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { StandaloneMembershipEntity } from './standalone-membership.entity';

/**
 * A user of BMI in standalone mode (no HIL). Only a scrypt hash of the password is kept (see password-hash.ts);
 * the plain password is never stored or logged.
 */
@Entity({ name: 'standalone_user' })
export class StandaloneUserEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', unique: true })
  name: string;

  @Column({ name: 'password_hash', type: 'varchar' })
  passwordHash: string;

  @Column({ name: 'is_admin', type: 'boolean' })
  isAdmin: boolean;

  @OneToMany('StandaloneMembershipEntity', (m: StandaloneMembershipEntity) => m.user)
  memberships?: StandaloneMembershipEntity[];
}
