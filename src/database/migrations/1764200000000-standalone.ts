import { MigrationInterface, QueryRunner } from 'typeorm';
import { serialId } from '../dialect';

/**
 * The tables of standalone mode (`[driver] net_isolator = standalone`): users with a password hash and an admin
 * flag, their project memberships, nodes owned by a project or free, and the nodes' NICs. Created in every mode
 * (they stay empty unless standalone mode is used), so that switching modes needs no migration.
 *
 * A deleted project takes its memberships with it and frees its nodes; a deleted user takes its memberships, a
 * deleted node its NICs. Plain types and named constraints only, so that the SQL ports to PostgreSQL.
 */
export class Standalone1764200000000 implements MigrationInterface {
  name = 'Standalone1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const id = serialId(q);
    await q.query(`CREATE TABLE "standalone_user" (
  ${id},
  "name" VARCHAR NOT NULL,
  "password_hash" VARCHAR NOT NULL,
  "is_admin" BOOLEAN NOT NULL,
  CONSTRAINT "UQ_standalone_user_name" UNIQUE ("name")
)`);
    await q.query(`CREATE TABLE "standalone_user_project" (
  "user_id" INTEGER NOT NULL,
  "project_id" INTEGER NOT NULL,
  CONSTRAINT "PK_standalone_user_project" PRIMARY KEY ("user_id", "project_id"),
  CONSTRAINT "FK_standalone_user_project_user" FOREIGN KEY ("user_id") REFERENCES "standalone_user" ("id") ON DELETE CASCADE,
  CONSTRAINT "FK_standalone_user_project_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE CASCADE
)`);
    await q.query(`CREATE INDEX "IDX_standalone_user_project_project" ON "standalone_user_project" ("project_id")`);
    await q.query(`CREATE TABLE "standalone_node" (
  ${id},
  "name" VARCHAR NOT NULL,
  "project_id" INTEGER,
  CONSTRAINT "UQ_standalone_node_name" UNIQUE ("name"),
  CONSTRAINT "FK_standalone_node_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE SET NULL
)`);
    await q.query(`CREATE INDEX "IDX_standalone_node_project" ON "standalone_node" ("project_id")`);
    await q.query(`CREATE TABLE "standalone_nic" (
  ${id},
  "node_id" INTEGER NOT NULL,
  "label" VARCHAR NOT NULL,
  "macaddr" VARCHAR NOT NULL,
  CONSTRAINT "UQ_standalone_nic_node_label" UNIQUE ("node_id", "label"),
  CONSTRAINT "UQ_standalone_nic_macaddr" UNIQUE ("macaddr"),
  CONSTRAINT "FK_standalone_nic_node" FOREIGN KEY ("node_id") REFERENCES "standalone_node" ("id") ON DELETE CASCADE
)`);
  }

  /** Dropping a table drops its indexes too. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "standalone_nic"`);
    await q.query(`DROP TABLE "standalone_node"`);
    await q.query(`DROP TABLE "standalone_user_project"`);
    await q.query(`DROP TABLE "standalone_user"`);
  }
}
