import { MigrationInterface, QueryRunner } from 'typeorm';

/** Standalone nodes get their BMC: address, and an account of their own (optional). Portable SQL. */
export class NodeBmc1765000000000 implements MigrationInterface {
  name = 'NodeBmc1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "standalone_node" ADD COLUMN "bmc_address" varchar(253)`);
    await q.query(`ALTER TABLE "standalone_node" ADD COLUMN "bmc_username" varchar(64)`);
    await q.query(`ALTER TABLE "standalone_node" ADD COLUMN "bmc_password" varchar(128)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['bmc_password', 'bmc_username', 'bmc_address']) {
      await q.query(`ALTER TABLE "standalone_node" DROP COLUMN "${column}"`);
    }
  }
}
