import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { copyDatabase } from '../../../src/database/copy-database';
import { DisksService } from '../../../src/modules/images/disks.service';
import { ImagesService } from '../../../src/modules/images/images.service';
import { ProjectsService } from '../../../src/modules/projects/projects.service';
import { ADMIN, ALICE, startTestApp } from '../../utils/test-app';
import { freshPgDatabase, sharedTestDatabase, TestDatabase } from '../../utils/test-db';

/**
 * `npm run db:copy`: an SQLite database of BMI moved to PostgreSQL with every id kept (app-pg project only: the
 * target is the test PostgreSQL). The SQLite side is written by BMI itself.
 */
let sqlite: TestDatabase;
let pg: TestDatabase;
const lines: string[] = [];
/** the in-memory pool, kept in a file beside the SQLite database: the app on the copy finds the same images */
const pool = () => ['[fs]', `fake_state = ${sqlite.location}.pool.json`];

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  sqlite = await sharedTestDatabase('sqlite');
  const t = await startTestApp({ database: sqlite.location, fakeImages: ['bmi_test'], extraIni: pool() });
  try {
    await t.app.get(ProjectsService).add('proj1');
    await t.app.get(ProjectsService).add('proj9', 9);
    await t.app.get(ImagesService).importImage(await t.scope(ADMIN, 'proj1', 'admin'), 'bmi_test');
    const alice = await t.scope(ALICE, 'proj1');
    const disks = t.app.get(DisksService);
    for (const d of ['d1', 'd2', 'd3']) await disks.createDisk(alice, d, 'bmi_test');
    await t.app.get(ImagesService).createSnapshot(alice, 'd1', 's1');
    // the newest ids are deleted: PostgreSQL must not give them again either
    await disks.deleteDisk(alice, 'd3');
    await t.app.get(ImagesService).removeImage(alice, 's1');
  } finally {
    await t.close();
  }
  pg = await freshPgDatabase(false);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await sqlite?.drop();
  await pg?.drop();
});

const open = async (location: string) => {
  const { openDatabase, dataSourceOptions } = await import('../../../src/database/database.module');
  return openDatabase(dataSourceOptions({ path: location, pool: 2 }));
};
const dump = async (ds: DataSource) => ({
  projects: await ds.query(`SELECT "id", "name" FROM "project" ORDER BY "id"`),
  images: (
    (await ds.query(
      `SELECT "id", "name", "project_id", "parent_id", "is_public", "is_snapshot", "exported" FROM "image" ORDER BY "id"`,
    )) as Record<string, unknown>[]
  ).map((r) => ({
    ...r,
    is_public: Boolean(r.is_public),
    is_snapshot: Boolean(r.is_snapshot),
    exported: Boolean(r.exported),
  })),
  operations: (await ds.query(`SELECT "id", "kind", "state", "steps" FROM "operation" ORDER BY "id"`)) as unknown[],
});

describe('copying an SQLite database to PostgreSQL (npm run db:copy)', () => {
  it('keeps every row and id, and the next ids come after every id SQLite ever gave', async () => {
    const report = await copyDatabase(sqlite.location, pg.location, (l) => lines.push(l));
    const from = await open(sqlite.location);
    const to = await open(pg.location);
    try {
      const before = await dump(from);
      expect(await dump(to)).toEqual(before);
      expect(before.images.map((i) => (i as { name?: string }).name)).toEqual(['bmi_test', 'd1', 'd2']);
      expect(report.rows).toMatchObject({ project: 3, image: 3 });
      expect(report.nextIds.image).toBe(6); // d3 was 4 and s1 was 5
      expect(report.nextIds.project).toBe(10);
    } finally {
      await from.destroy();
      await to.destroy();
    }
    // BMI on the copy carries on: the next disk gets the next id, not one SQLite gave before
    const t = await startTestApp({ database: pg.location, fakeImages: ['bmi_test'], extraIni: pool() });
    try {
      await t.app.get(DisksService).createDisk(await t.scope(ALICE, 'proj1'), 'd4', 'bmi_test');
      const rows = await t.imageRows.find({ order: { id: 'ASC' } });
      expect(rows.map((r) => [r.id, r.name])).toEqual([
        [1, 'bmi_test'],
        [2, 'd1'],
        [3, 'd2'],
        [6, 'd4'],
      ]);
    } finally {
      await t.close();
    }
  });

  it('refuses a target that is not empty, and a source or target of the wrong kind, changing nothing', async () => {
    await expect(copyDatabase(sqlite.location, pg.location, () => undefined)).rejects.toThrow(
      'the target database is not empty: table project has 3 rows',
    );
    await expect(copyDatabase(pg.location, pg.location, () => undefined)).rejects.toThrow(
      /^the source must be an SQLite file, not postgres:\/\/bmi:\*\*\*@/,
    );
    await expect(copyDatabase(sqlite.location, '/tmp/other.db', () => undefined)).rejects.toThrow(
      'the target must be a postgres:// URL, not /tmp/other.db',
    );
    const to = await open(pg.location);
    try {
      expect((await dump(to)).images).toHaveLength(4);
    } finally {
      await to.destroy();
    }
  });
});
