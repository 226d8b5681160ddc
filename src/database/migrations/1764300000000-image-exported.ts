import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `image.exported`: whether the image should have an iSCSI target. tgtd keeps its targets in memory only, so
 * BMI re-creates them from this column at start and in its reconciler. create_disk and mount_image set it,
 * umount_image clears it (delete_disk removes the row). Every disk row already in the database is exported:
 * the original made a target for each disk (and nothing recorded mount_image).
 */
export class ImageExported1764300000000 implements MigrationInterface {
  name = 'ImageExported1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "image" ADD COLUMN "exported" BOOLEAN NOT NULL DEFAULT FALSE`);
    await q.query(`UPDATE "image" SET "exported" = TRUE WHERE "parent_id" IS NOT NULL AND "is_snapshot" = FALSE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "image" DROP COLUMN "exported"`);
  }
}
