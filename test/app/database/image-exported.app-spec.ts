import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { openMigrated, rawExec as rawExecOn } from '../../utils/sqlite-file';
import { ImageEntity } from '../../../src/modules/images/image.entity';
import { ImageExported1764300000000 } from '../../../src/database/migrations/1764300000000-image-exported';

/** `image.exported`: every disk already in a database (the original's, or ours before this column) is exported. */

let dir: string;
let file: string;
let ds: DataSource | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bmi-migration-'));
  file = path.join(dir, 'bmi.db');
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  if (ds?.isInitialized) await ds.destroy();
  ds = undefined;
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const rawExec = (sql: string) => rawExecOn(file, sql);

async function open(): Promise<DataSource> {
  ds = await openMigrated(file);
  return ds;
}

const exported = async (d: DataSource) =>
  (await d.query(`SELECT name, exported FROM image ORDER BY id`)) as { name: string; exported: number }[];

describe('migration 1764300000000-image-exported', () => {
  it('marks every disk of an original BMI database exported, and nothing else', async () => {
    await rawExec(`
      CREATE TABLE project (id INTEGER NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (name));
      CREATE TABLE image (id INTEGER NOT NULL, name VARCHAR NOT NULL, is_public BOOLEAN NOT NULL, is_snapshot BOOLEAN NOT NULL, project_id INTEGER NOT NULL, parent_id INTEGER, PRIMARY KEY (id), CONSTRAINT _project_id_image_name_unique_constraint UNIQUE (project_id, name), FOREIGN KEY(project_id) REFERENCES project (id), FOREIGN KEY(parent_id) REFERENCES image (id));
      INSERT INTO project VALUES (1, 'bmi_infra');
      INSERT INTO project VALUES (2, 'proj1');
      INSERT INTO image VALUES (3, 'centos7', 1, 0, 1, NULL);
      INSERT INTO image VALUES (5, 'disk1', 0, 0, 2, 3);
      INSERT INTO image VALUES (8, 'snap1', 0, 1, 2, 3);
      INSERT INTO image VALUES (9, 'disk2', 0, 0, 2, 8);
    `);
    const d = await open();
    expect(await exported(d)).toEqual([
      { name: 'centos7', exported: 0 },
      { name: 'disk1', exported: 1 },
      { name: 'snap1', exported: 0 },
      { name: 'disk2', exported: 1 },
    ]);
    expect(await d.getRepository(ImageEntity).findOneBy({ id: 5 })).toMatchObject({ name: 'disk1', exported: true });
  });

  it('a new row is not exported unless said so', async () => {
    const d = await open();
    await d.query(`INSERT INTO project (name) VALUES ('p')`);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('x', 1)`);
    expect(await exported(d)).toEqual([{ name: 'x', exported: 0 }]);
  });

  it('down drops the column and keeps the rows', async () => {
    const d = await open();
    await d.query(`INSERT INTO project (name) VALUES ('p')`);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('x', 1)`);
    const runner = d.createQueryRunner();
    try {
      await new ImageExported1764300000000().down(runner);
      const columns = (await d.query(`PRAGMA table_info(image)`)).map((c: { name: string }) => c.name);
      expect(columns).not.toContain('exported');
      expect(await d.query(`SELECT name FROM image`)).toEqual([{ name: 'x' }]);
    } finally {
      await runner.release();
    }
  });
});
