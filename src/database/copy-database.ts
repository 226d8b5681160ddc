import { DataSource, EntityManager } from 'typeorm';
import { dataSourceOptions, openDatabase } from './database.module';
import { dbLocation, redactDbUrl } from './db-location';

/** BMI's tables in an order that keeps foreign keys satisfied as rows are written. */
const TABLES = [
  'project',
  'image',
  'standalone_user',
  'standalone_user_project',
  'standalone_node',
  'standalone_nic',
  'operation',
  'resource_lock',
] as const;
/** tables whose ids come from a sequence, which must end past every id the source ever gave */
const SERIAL = ['project', 'image', 'standalone_user', 'standalone_node', 'standalone_nic'];
const CHUNK = 200;

export interface CopyReport {
  /** rows copied per table */
  rows: Record<string, number>;
  /** the next id each serial table gives */
  nextIds: Record<string, number>;
}

/**
 * Copies an SQLite database of BMI into an empty PostgreSQL database, every id kept (ids name Ceph images:
 * `<uid>img<id>`), for moving to several instances. Both are first brought up to the current schema (as BMI's
 * start would). The copy is one transaction on the target: it lands whole or not at all. Each id sequence is
 * moved past the highest id the source ever gave, deleted rows' ids included, so that no id is given twice.
 * Unfinished operations come along with their locks: the instances on PostgreSQL recover them. Stop the BMI
 * that uses the SQLite file first.
 */
export async function copyDatabase(from: string, to: string, log: (line: string) => void): Promise<CopyReport> {
  if (dbLocation(from).engine !== 'sqlite')
    throw new Error(`the source must be an SQLite file, not ${redactDbUrl(from)}`);
  if (dbLocation(to).engine !== 'postgres')
    throw new Error(`the target must be a postgres:// URL, not ${redactDbUrl(to)}`);
  const source = await openDatabase(dataSourceOptions({ path: from, pool: 1 }, 'bmi-db-copy'));
  try {
    const target = await openDatabase(dataSourceOptions({ path: to, pool: 2 }, 'bmi-db-copy'));
    try {
      return await target.transaction((tx) => copyInto(source, tx, log));
    } finally {
      await target.destroy();
    }
  } finally {
    await source.destroy();
  }
}

async function copyInto(source: DataSource, tx: EntityManager, log: (line: string) => void): Promise<CopyReport> {
  for (const table of TABLES) {
    const [{ n }] = (await tx.query(`SELECT COUNT(*) AS n FROM "${table}"`)) as { n: string }[];
    if (Number(n) > 0) throw new Error(`the target database is not empty: table ${table} has ${n} rows`);
  }
  const rows: Record<string, number> = {};
  for (const table of TABLES) {
    const all = (await source.query(`SELECT * FROM "${table}"`)) as Record<string, unknown>[];
    // an image's parent may come after it: parents are set once every image is in
    const parents = table === 'image' ? all.map((r) => [r.id, r.parent_id] as const).filter(([, p]) => p !== null) : [];
    const put = table === 'image' ? all.map((r) => ({ ...r, parent_id: null })) : all;
    for (let i = 0; i < put.length; i += CHUNK) await insertMany(tx, table, put.slice(i, i + CHUNK));
    for (const [id, parent] of parents) {
      await tx.query(`UPDATE "image" SET "parent_id" = $1 WHERE "id" = $2`, [parent, id]);
    }
    rows[table] = all.length;
    log(`${table}: ${all.length} rows`);
  }
  const given = new Map(
    ((await source.query(`SELECT "name", "seq" FROM "sqlite_sequence"`)) as { name: string; seq: number }[]).map(
      (s) => [s.name, Number(s.seq)],
    ),
  );
  const nextIds: Record<string, number> = {};
  for (const table of SERIAL) {
    const [{ max }] = (await tx.query(`SELECT COALESCE(MAX("id"), 0) AS max FROM "${table}"`)) as { max: number }[];
    const last = Math.max(Number(max), given.get(table) ?? 0);
    if (last > 0) {
      await tx.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, [`"${table}"`, last]);
    }
    nextIds[table] = last + 1;
  }
  log(
    `next ids: ${Object.entries(nextIds)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
  );
  return { rows, nextIds };
}

async function insertMany(tx: EntityManager, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]);
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const marks = columns.map((c) => {
      values.push(row[c]);
      return `$${values.length}`;
    });
    return `(${marks.join(', ')})`;
  });
  await tx.query(
    `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`,
    values,
  );
}
