import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What several instances on one database coordinate through (modules/operations): `resource_lock`, the locks
 * on images, nodes and projects, one row per lock and holder; `lease`, named leases such as the one that lets
 * a single instance run the periodic target reconciler. Portable SQL.
 */
export class Coordination1764600000000 implements MigrationInterface {
  name = 'Coordination1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "resource_lock" (` +
        `"key" varchar(300) NOT NULL, "holder" varchar(36) NOT NULL, "mode" varchar(9) NOT NULL, ` +
        `"instance" varchar(128) NOT NULL, "lease_until" bigint NOT NULL, ` +
        `CONSTRAINT "PK_resource_lock" PRIMARY KEY ("key", "holder"))`,
    );
    await q.query(`CREATE INDEX "resource_lock_holder_idx" ON "resource_lock" ("holder")`);
    await q.query(
      `CREATE TABLE "lease" ("name" varchar(128) PRIMARY KEY NOT NULL, "holder" varchar(128) NOT NULL, ` +
        `"lease_until" bigint NOT NULL)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "lease"`);
    await q.query(`DROP INDEX "resource_lock_holder_idx"`);
    await q.query(`DROP TABLE "resource_lock"`);
  }
}
