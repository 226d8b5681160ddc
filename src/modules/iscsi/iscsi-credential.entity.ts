import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The CHAP credentials and the initiator name of one iSCSI target (table `iscsi_credential`): made at random
 * when the target is first made and kept (a target made again, after a tgtd restart or by an undo, gets the
 * same, which the nodes' boot scripts carry; target names are never reused, image ids being never reused).
 * Never logged, never sent by the API.
 */
@Entity('iscsi_credential')
export class IscsiCredentialEntity {
  /** the target's name */
  @PrimaryColumn({ type: 'varchar', length: 223 })
  target: string;

  /** the CHAP user name the target's account has */
  @Column({ name: 'chap_user', type: 'varchar', length: 64 })
  chapUser: string;

  /** the CHAP secret */
  @Column({ name: 'chap_secret', type: 'varchar', length: 64 })
  chapSecret: string;

  /** the one initiator name the target lets in */
  @Column({ type: 'varchar', length: 223 })
  initiator: string;
}
