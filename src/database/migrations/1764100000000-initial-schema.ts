import { Logger } from '@nestjs/common';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres, serialId } from '../dialect';

const CREATE_PROJECT = (id: string) => `CREATE TABLE "project" (
  ${id},
  "name" VARCHAR NOT NULL,
  CONSTRAINT "UQ_project_name" UNIQUE ("name")
)`;

const CREATE_IMAGE = (id: string) => `CREATE TABLE "image" (
  ${id},
  "name" VARCHAR NOT NULL,
  "is_public" BOOLEAN NOT NULL DEFAULT FALSE,
  "is_snapshot" BOOLEAN NOT NULL DEFAULT FALSE,
  "project_id" INTEGER NOT NULL,
  "parent_id" INTEGER,
  CONSTRAINT "_project_id_image_name_unique_constraint" UNIQUE ("project_id", "name"),
  CONSTRAINT "FK_image_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_image_parent" FOREIGN KEY ("parent_id") REFERENCES "image" ("id") ON DELETE RESTRICT
)`;

/**
 * Creates `project` and `image` (reference §4). When the file is a database written by the original BMI
 * (tables made by SQLAlchemy: no AUTOINCREMENT, foreign keys not enforced, maybe the old `provision_network`
 * column), the tables are rebuilt in place with every id kept, so that the `<uid>img<id>` names in Ceph still
 * match. Rows the original left dangling (an image whose project is gone) cannot be kept and are reported.
 */
export class InitialSchema1764100000000 implements MigrationInterface {
  name = 'InitialSchema1764100000000';
  private readonly logger = new Logger('Migration');

  async up(q: QueryRunner): Promise<void> {
    const legacy = new Set<string>();
    for (const table of ['project', 'image']) if (await q.hasTable(table)) legacy.add(table);
    const id = serialId(q);
    if (legacy.size === 0) {
      await q.query(CREATE_PROJECT(id));
      await q.query(CREATE_IMAGE(id));
      return;
    }
    if (isPostgres(q)) {
      // the original's databases were SQLite files: they move to PostgreSQL with `bmi-db copy`
      throw new Error('the PostgreSQL database already has BMI tables that no migration of BMI made');
    }
    this.logger.log('adopting a database written by the original BMI: rebuilding its tables, ids kept');
    if (legacy.has('image')) await q.query(`ALTER TABLE "image" RENAME TO "_legacy_image"`);
    if (legacy.has('project')) await q.query(`ALTER TABLE "project" RENAME TO "_legacy_project"`);
    await q.query(CREATE_PROJECT(id));
    await q.query(CREATE_IMAGE(id));
    if (legacy.has('project')) {
      await q.query(`INSERT INTO "project" ("id", "name") SELECT "id", "name" FROM "_legacy_project" ORDER BY "id"`);
    }
    if (legacy.has('image')) {
      const dangling: { id: number; name: string }[] = await q.query(
        `SELECT "id", "name" FROM "_legacy_image" WHERE "project_id" NOT IN (SELECT "id" FROM "project")`,
      );
      for (const row of dangling) {
        this.logger.warn(`dropping image row ${row.id} "${row.name}": its project no longer exists`);
      }
      await q.query(
        `INSERT INTO "image" ("id", "name", "is_public", "is_snapshot", "project_id", "parent_id")
         SELECT "id", "name", COALESCE("is_public", 0), COALESCE("is_snapshot", 0), "project_id", NULL
         FROM "_legacy_image" WHERE "project_id" IN (SELECT "id" FROM "project") ORDER BY "id"`,
      );
      await q.query(
        `UPDATE "image" SET "parent_id" = (SELECT l."parent_id" FROM "_legacy_image" l WHERE l."id" = "image"."id")
         WHERE (SELECT l."parent_id" FROM "_legacy_image" l WHERE l."id" = "image"."id") IN (SELECT "id" FROM "image")`,
      );
      // The id of a dropped row must not come back: its `<uid>img<id>` image may still be in Ceph.
      await q.query(`DELETE FROM "sqlite_sequence" WHERE "name" = 'image'`);
      await q.query(
        `INSERT INTO "sqlite_sequence" ("name", "seq") SELECT 'image', MAX("id") FROM "_legacy_image" HAVING MAX("id") IS NOT NULL`,
      );
      await q.query(`DROP TABLE "_legacy_image"`);
    }
    if (legacy.has('project')) await q.query(`DROP TABLE "_legacy_project"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "image"`);
    await q.query(`DROP TABLE "project"`);
  }
}
