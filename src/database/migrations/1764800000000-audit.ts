import { MigrationInterface, QueryRunner } from 'typeorm';
import { serialId } from '../dialect';

/**
 * `audit_record`: one row per mutation asked of BMI (who, from which project, what, on which names, the answer,
 * the journaled operation), kept for admins to query. Portable SQL.
 */
export class Audit1764800000000 implements MigrationInterface {
  name = 'Audit1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "audit_record" (
        ${serialId(q)},
        "at" bigint NOT NULL,
        "actor" varchar(64) NOT NULL,
        "project" varchar(64),
        "action" varchar(64) NOT NULL,
        "route" varchar(160) NOT NULL,
        "resource" varchar(512) NOT NULL,
        "status" integer NOT NULL,
        "result" varchar(64) NOT NULL,
        "operation_id" varchar(36),
        "request_id" varchar(128) NOT NULL,
        "client" varchar(64)
      )`,
    );
    await q.query(`CREATE INDEX "audit_record_project_idx" ON "audit_record" ("project", "id")`);
    await q.query(`CREATE INDEX "audit_record_actor_idx" ON "audit_record" ("actor", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_record"`);
  }
}
