import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `operation.client`: the storage session of the instance that ran the operation (its Ceph client address),
 * so that recovery can fence a dead instance before undoing its work. Portable SQL.
 */
export class OperationClient1764500000000 implements MigrationInterface {
  name = 'OperationClient1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "operation" ADD COLUMN "client" varchar(256)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "operation" DROP COLUMN "client"`);
  }
}
