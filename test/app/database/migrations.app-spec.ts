import { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS, openDatabase } from '../../../src/database/database.module';
import { freshTestDatabase, tableNames, TestDatabase, testEngine } from '../../utils/test-db';

/**
 * Every migration, down and up again, on the engine of the jest project (SQLite here, PostgreSQL in app-pg):
 * the schema comes and goes whole, and the one made from scratch accepts what BMI writes.
 */
const configFor = (location: string) => ({ path: location, pool: 4 });

let db: TestDatabase;
let ds: DataSource;

beforeEach(async () => {
  db = await freshTestDatabase(false);
  ds = await openDatabase(dataSourceOptions(configFor(db.location)));
});

afterEach(async () => {
  await ds?.destroy();
  await db?.drop();
});

const BMI_TABLES = [
  'audit_record',
  'idempotency_key',
  'image',
  'iscsi_credential',
  'lease',
  'operation',
  'project',
  'resource_lock',
  'standalone_nic',
  'standalone_node',
  'standalone_user',
  'standalone_user_project',
];
const STANDALONE = ['standalone_nic', 'standalone_node', 'standalone_user', 'standalone_user_project'];
const bmiTables = async () => (await tableNames(ds)).filter((t) => BMI_TABLES.includes(t));

describe(`the migrations on ${testEngine()}`, () => {
  it('make every table, record each migration once, and find nothing to do the second time', async () => {
    expect(await bmiTables()).toEqual(BMI_TABLES);
    const done: { name: string }[] = await ds.query(`SELECT "name" FROM "migrations" ORDER BY "id"`);
    expect(done.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await ds.runMigrations({ transaction: 'each' })).toEqual([]);
  });

  it('each go down, newest first, until no table of BMI is left, and come back up', async () => {
    const left: string[][] = [];
    for (let i = 0; i < MIGRATIONS.length; i++) {
      await ds.undoLastMigration({ transaction: 'each' });
      left.push(await bmiTables());
    }
    const ALL_BUT_AUDIT = BMI_TABLES.filter((t) => !['audit_record', 'iscsi_credential'].includes(t));
    expect(left).toEqual([
      BMI_TABLES, // the nodes' BMC columns dropped
      ['audit_record', ...ALL_BUT_AUDIT], // iscsi_credential dropped
      ALL_BUT_AUDIT, // audit_record dropped
      ['image', 'lease', 'operation', 'project', 'resource_lock', ...STANDALONE], // idempotency_key dropped
      ['image', 'operation', 'project', ...STANDALONE], // lease and resource_lock dropped
      ['image', 'operation', 'project', ...STANDALONE], // operation.client dropped
      ['image', 'project', ...STANDALONE],
      ['image', 'project', ...STANDALONE],
      ['image', 'project'],
      [],
    ]);
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await bmiTables()).toEqual(BMI_TABLES);
  });

  it('give ids that are never reused, booleans that default to false, and exported disks', async () => {
    await ds.query(`INSERT INTO "project" ("name") VALUES ('p')`);
    await ds.query(`INSERT INTO "image" ("name", "project_id") VALUES ('a', 1)`);
    await ds.query(`INSERT INTO "image" ("name", "project_id") VALUES ('b', 1)`);
    await ds.query(`DELETE FROM "image" WHERE "name" = 'b'`);
    await ds.query(`INSERT INTO "image" ("name", "project_id", "exported") VALUES ('c', 1, TRUE)`);
    const rows: { id: number; name: string; is_public: unknown; exported: unknown }[] = await ds.query(
      `SELECT "id", "name", "is_public", "exported" FROM "image" ORDER BY "id"`,
    );
    expect(rows.map((r) => [r.id, r.name, Boolean(r.is_public), Boolean(r.exported)])).toEqual([
      [1, 'a', false, false],
      [3, 'c', false, true],
    ]);
  });

  // several processes on one database: PostgreSQL only (the app-pg project)
  if (testEngine() !== 'postgres') return;
  it('let instances that start at once on a new database apply each migration exactly once (PostgreSQL)', async () => {
    const other = await freshTestDatabase(false);
    try {
      const options = dataSourceOptions(configFor(other.location));
      const all = await Promise.all([openDatabase(options), openDatabase(options), openDatabase(options)]);
      const done: { name: string }[] = await all[0].query(`SELECT "name" FROM "migrations" ORDER BY "id"`);
      await Promise.all(all.map((d) => d.destroy()));
      expect(done.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await other.drop();
    }
  });
});
