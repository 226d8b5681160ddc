import { MigrationInterface, QueryRunner } from 'typeorm';

/** `operation`: the journal of multi-step operations (see OperationEntity). Portable SQL. */
export class OperationJournal1764400000000 implements MigrationInterface {
  name = 'OperationJournal1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "operation" (` +
        `"id" varchar(36) PRIMARY KEY NOT NULL, "kind" varchar(32) NOT NULL, "project" varchar(64), ` +
        `"actor" varchar(64), "args" text NOT NULL, "state" varchar(16) NOT NULL, "steps" text NOT NULL, ` +
        `"error" text, "owner" varchar(128) NOT NULL, "lease_until" bigint NOT NULL, ` +
        `"started_at" bigint NOT NULL, "updated_at" bigint NOT NULL)`,
    );
    await q.query(`CREATE INDEX "operation_state_idx" ON "operation" ("state")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "operation_state_idx"`);
    await q.query(`DROP TABLE "operation"`);
  }
}
