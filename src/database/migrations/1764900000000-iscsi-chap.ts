import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `iscsi_credential`: each target's CHAP user and secret and the initiator name it lets in. Targets made before
 * have no row: the target reconciler gives them one. Portable SQL.
 */
export class IscsiChap1764900000000 implements MigrationInterface {
  name = 'IscsiChap1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "iscsi_credential" (
        "target" varchar(223) PRIMARY KEY NOT NULL,
        "chap_user" varchar(64) NOT NULL,
        "chap_secret" varchar(64) NOT NULL,
        "initiator" varchar(223) NOT NULL
      )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "iscsi_credential"`);
  }
}
