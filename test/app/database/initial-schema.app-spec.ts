import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { openMigrated, rawExec as rawExecOn } from '../../utils/sqlite-file';
import { MIGRATIONS } from '../../../src/database/database.module';
import { ImageEntity } from '../../../src/modules/images/image.entity';

/**
 * The migration adopts a database file written by the ORIGINAL BMI (SQLAlchemy's `create_all`, reference §4):
 * every id kept (they are in the Ceph names `<uid>img<id>`), foreign keys enforced, AUTOINCREMENT in place.
 */

const SQLALCHEMY_PROJECT = `CREATE TABLE project (id INTEGER NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (name))`;
/** Before PR #178 (Aug 2018) the project table had a third column; the install guide still inserts into it. */
const SQLALCHEMY_PROJECT_OLD = `CREATE TABLE project (id INTEGER NOT NULL, name VARCHAR NOT NULL, provision_network VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (name))`;
const SQLALCHEMY_IMAGE = `CREATE TABLE image (id INTEGER NOT NULL, name VARCHAR NOT NULL, is_public BOOLEAN NOT NULL, is_snapshot BOOLEAN NOT NULL, project_id INTEGER NOT NULL, parent_id INTEGER, PRIMARY KEY (id), CONSTRAINT _project_id_image_name_unique_constraint UNIQUE (project_id, name), FOREIGN KEY(project_id) REFERENCES project (id), FOREIGN KEY(parent_id) REFERENCES image (id))`;

/**
 * Rows as the original left them: gaps in the ids (deleted rows), a disk and a snapshot with their parent,
 * an image whose parent row is gone, and an image whose project row is gone (SQLite did not enforce FKs).
 */
const IMAGE_ROWS = `
INSERT INTO image VALUES (3, 'centos7', 1, 0, 1, NULL);
INSERT INTO image VALUES (5, 'disk1', 0, 0, 2, 3);
INSERT INTO image VALUES (8, 'snap1', 0, 1, 2, 3);
INSERT INTO image VALUES (9, 'orphan-disk', 0, 0, 2, 4);
INSERT INTO image VALUES (12, 'homeless', 0, 0, 6, NULL);
`;

let dir: string;
let file: string;
let ds: DataSource | undefined;
let warn: jest.SpyInstance;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bmi-migration-'));
  file = path.join(dir, 'bmi.db');
  warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
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

async function reopen(): Promise<DataSource> {
  await ds?.destroy();
  return open();
}

const images = (d: DataSource) =>
  d.query(`SELECT id, name, is_public, is_snapshot, project_id, parent_id FROM image ORDER BY id`);
const tableSql = async (d: DataSource, table: string): Promise<string> =>
  (await d.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, [table]))[0]?.sql ?? '';

describe.each([
  [
    'the current SQLAlchemy schema',
    SQLALCHEMY_PROJECT,
    `INSERT INTO project VALUES (1, 'bmi_infra'); INSERT INTO project VALUES (2, 'proj1'); INSERT INTO project VALUES (4, 'proj2');`,
  ],
  [
    'the old schema with provision_network',
    SQLALCHEMY_PROJECT_OLD,
    `INSERT INTO project VALUES (1, 'bmi_infra', 'provision'); INSERT INTO project VALUES (2, 'proj1', 'net1'); INSERT INTO project VALUES (4, 'proj2', 'net2');`,
  ],
])('a database written by the original BMI, %s', (_, projectDdl, projectRows) => {
  beforeEach(async () => {
    await rawExec(`${projectDdl};\n${SQLALCHEMY_IMAGE};\n${projectRows}\n${IMAGE_ROWS}`);
  });

  it('keeps every project id and name, and drops the old column', async () => {
    const d = await open();
    expect(await d.query(`SELECT * FROM project ORDER BY id`)).toEqual([
      { id: 1, name: 'bmi_infra' },
      { id: 2, name: 'proj1' },
      { id: 4, name: 'proj2' },
    ]);
  });

  it('keeps every image id, flags and parent; a parent that is gone becomes null', async () => {
    const d = await open();
    expect(await images(d)).toEqual([
      { id: 3, name: 'centos7', is_public: 1, is_snapshot: 0, project_id: 1, parent_id: null },
      { id: 5, name: 'disk1', is_public: 0, is_snapshot: 0, project_id: 2, parent_id: 3 },
      { id: 8, name: 'snap1', is_public: 0, is_snapshot: 1, project_id: 2, parent_id: 3 },
      { id: 9, name: 'orphan-disk', is_public: 0, is_snapshot: 0, project_id: 2, parent_id: null },
    ]);
  });

  it('drops an image whose project is gone, and says so', async () => {
    await open();
    expect(warn).toHaveBeenCalledWith('dropping image row 12 "homeless": its project no longer exists');
  });

  it('leaves no legacy tables behind', async () => {
    const d = await open();
    const tables = (await d.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)).map(
      (r: { name: string }) => r.name,
    );
    expect(tables).toEqual([
      // the later migration 1764800000000-audit
      'audit_record',
      // the later migration 1764700000000-api-v1
      'idempotency_key',
      'image',
      // the later migration 1764900000000-iscsi-chap
      'iscsi_credential',
      // the later migration 1764600000000-coordination
      'lease',
      'migrations',
      'operation',
      'project',
      'resource_lock',
      'sqlite_sequence',
      // the later migration 1764200000000-standalone
      'standalone_nic',
      'standalone_node',
      'standalone_user',
      'standalone_user_project',
    ]);
  });

  it('the entities read the adopted rows (parent relation included)', async () => {
    const d = await open();
    const disk = await d.getRepository(ImageEntity).findOne({ where: { id: 5 }, relations: { parent: true } });
    expect(disk).toMatchObject({ id: 5, name: 'disk1', isPublic: false, isSnapshot: false, projectId: 2, parentId: 3 });
    expect(disk?.parent?.name).toBe('centos7');
  });

  it('enforces foreign keys afterwards', async () => {
    const d = await open();
    expect(await d.query(`PRAGMA foreign_keys`)).toEqual([{ foreign_keys: 1 }]);
    await expect(d.query(`INSERT INTO image (name, project_id) VALUES ('x', 99)`)).rejects.toThrow(
      /FOREIGN KEY constraint failed/,
    );
    await expect(d.query(`INSERT INTO image (name, project_id, parent_id) VALUES ('x', 2, 99)`)).rejects.toThrow(
      /FOREIGN KEY constraint failed/,
    );
    await expect(d.query(`DELETE FROM project WHERE id = 2`)).rejects.toThrow(/FOREIGN KEY constraint failed/);
    await expect(d.query(`DELETE FROM image WHERE id = 3`)).rejects.toThrow(/FOREIGN KEY constraint failed/);
    expect(await d.query(`PRAGMA foreign_key_check`)).toEqual([]);
  });

  it('keeps the unique (project, name) constraint', async () => {
    const d = await open();
    await expect(d.query(`INSERT INTO image (name, project_id) VALUES ('disk1', 2)`)).rejects.toThrow(/UNIQUE/);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('disk1', 4)`);
    await expect(d.query(`INSERT INTO project (name) VALUES ('proj1')`)).rejects.toThrow(/UNIQUE/);
  });

  it('never reuses the id of a dropped row: its <uid>img<id> image may still be in Ceph', async () => {
    const d = await open();
    await d.query(`INSERT INTO image (name, project_id) VALUES ('new1', 2)`);
    expect((await images(d)).at(-1)).toMatchObject({ id: 13, name: 'new1' });
  });

  it('uses AUTOINCREMENT: new ids follow the highest, and a deleted highest id is not reused', async () => {
    const d = await open();
    expect(await tableSql(d, 'image')).toMatch(/AUTOINCREMENT/);
    expect(await tableSql(d, 'project')).toMatch(/AUTOINCREMENT/);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('new1', 2)`);
    expect((await images(d)).at(-1)).toMatchObject({ id: 13, name: 'new1' });
    await d.query(`DELETE FROM image WHERE id = 13`);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('new2', 2)`);
    expect((await images(d)).at(-1)).toMatchObject({ id: 14, name: 'new2' });
    await d.query(`DELETE FROM project WHERE id = 4`);
    await d.query(`INSERT INTO project (name) VALUES ('proj3')`);
    expect((await d.query(`SELECT id FROM project WHERE name = 'proj3'`))[0].id).toBe(5);
  });

  it('the deleted highest id stays used after a restart', async () => {
    let d = await open();
    await d.query(`INSERT INTO image (name, project_id) VALUES ('new', 2)`);
    await d.query(`DELETE FROM image WHERE id = 13`);
    d = await reopen();
    await d.query(`INSERT INTO image (name, project_id) VALUES ('newer', 2)`);
    expect((await images(d)).at(-1)).toMatchObject({ id: 14, name: 'newer' });
  });

  it('runs once: a second start changes nothing', async () => {
    const d = await open();
    const before = await images(d);
    const d2 = await reopen();
    expect(await images(d2)).toEqual(before);
    expect(await d2.query(`SELECT name FROM migrations ORDER BY id`)).toEqual([
      { name: 'InitialSchema1764100000000' },
      { name: 'Standalone1764200000000' },
      { name: 'ImageExported1764300000000' },
      { name: 'OperationJournal1764400000000' },
      { name: 'OperationClient1764500000000' },
      { name: 'Coordination1764600000000' },
      { name: 'ApiV11764700000000' },
      { name: 'Audit1764800000000' },
      { name: 'IscsiChap1764900000000' },
      { name: 'NodeBmc1765000000000' },
    ]);
  });
});

describe('a database written by the original BMI whose highest image row was kept', () => {
  it('continues after it', async () => {
    await rawExec(
      `${SQLALCHEMY_PROJECT};\n${SQLALCHEMY_IMAGE};\nINSERT INTO project VALUES (1, 'p');\nINSERT INTO image VALUES (7, 'a', 0, 0, 1, NULL);`,
    );
    const d = await open();
    await d.query(`INSERT INTO image (name, project_id) VALUES ('b', 1)`);
    expect((await images(d)).map((r: { id: number }) => r.id)).toEqual([7, 8]);
  });

  it('an empty image table starts at 1', async () => {
    await rawExec(`${SQLALCHEMY_PROJECT};\n${SQLALCHEMY_IMAGE};\nINSERT INTO project VALUES (1, 'p');`);
    const d = await open();
    await d.query(`INSERT INTO image (name, project_id) VALUES ('b', 1)`);
    expect((await images(d)).map((r: { id: number }) => r.id)).toEqual([1]);
  });
});

describe('a database written by the original BMI with only the project table', () => {
  it('is adopted, and the image table is created', async () => {
    await rawExec(`${SQLALCHEMY_PROJECT_OLD};\nINSERT INTO project VALUES (1, 'bmi_infra', 'provision');`);
    const d = await open();
    expect(await d.query(`SELECT * FROM project`)).toEqual([{ id: 1, name: 'bmi_infra' }]);
    expect(await images(d)).toEqual([]);
    await d.query(`INSERT INTO image (name, project_id) VALUES ('x', 1)`);
  });
});

describe('a new database', () => {
  it('gets both tables, empty, with AUTOINCREMENT and enforced foreign keys', async () => {
    const d = await open();
    expect(await d.query(`SELECT * FROM project`)).toEqual([]);
    expect(await images(d)).toEqual([]);
    expect(await tableSql(d, 'image')).toMatch(/AUTOINCREMENT/);
    await expect(d.query(`INSERT INTO image (name, project_id) VALUES ('x', 1)`)).rejects.toThrow(
      /FOREIGN KEY constraint failed/,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('migration down drops both tables (once the later migrations are undone)', async () => {
    const d = await open();
    for (let i = MIGRATIONS.length; i > 0; i--) await d.undoLastMigration();
    const tables = await d.query(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('project', 'image')`,
    );
    expect(tables).toEqual([]);
  });
});
