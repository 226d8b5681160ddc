import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the /v1 API keeps: `operation.progress` (JSON `{ step, done, total }` of the step reporting progress, a
 * flatten), and `idempotency_key`, the first answer to a request sent with an `Idempotency-Key` header, per
 * caller, so that a retried create answers the same. Portable SQL.
 */
export class ApiV11764700000000 implements MigrationInterface {
  name = 'ApiV11764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "operation" ADD COLUMN "progress" text`);
    await q.query(
      `CREATE TABLE "idempotency_key" (
        "actor" varchar(64) NOT NULL,
        "key" varchar(128) NOT NULL,
        "request" varchar(64) NOT NULL,
        "status" integer,
        "body" text,
        "location" varchar(512),
        "created_at" bigint NOT NULL,
        PRIMARY KEY ("actor", "key")
      )`,
    );
    await q.query(`CREATE INDEX "idempotency_key_created_idx" ON "idempotency_key" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "idempotency_key"`);
    await q.query(`ALTER TABLE "operation" DROP COLUMN "progress"`);
  }
}
