import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS, openDatabase } from '../../src/database/database.module';

/**
 * The database engine the app-tier tests run on: SQLite (`:memory:`, the default) or, in the `app-pg` jest
 * project, the PostgreSQL of `scripts/pg-local.sh` (BMI_PG_URL; npm test starts it), one fresh database per app.
 */
export type TestEngine = 'sqlite' | 'postgres';

export function testEngine(): TestEngine {
  return process.env.BMI_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

const HOW = 'set BMI_PG_URL from `scripts/pg-local.sh up` (npm test does)';

/** The server URL of the test PostgreSQL; throws (the tests that need it fail) when there is none. */
export function pgServerUrl(): string {
  const url = process.env.BMI_PG_URL;
  if (!url) throw new Error(`no PostgreSQL for the tests: ${HOW}`);
  return url;
}

/** Runs `fn` with a connection to the test server's maintenance database. */
async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const url = new URL(pgServerUrl());
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** what `[db] path` gets */
  location: string;
  drop: () => Promise<void>;
}

function databaseUrl(name: string): string {
  const url = new URL(pgServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A database with every migration applied, which the tests' databases are copied from (a copy takes a few
 * ms; migrating each new database took most of an app's start). Named after the migrations, made once per
 * server: the jest workers that start at once take turns under an advisory lock.
 */
let template: Promise<string> | undefined;
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `bmi_template_${createHash('sha256')
      .update(MIGRATIONS.map((m) => m.name).join(','))
      .digest('hex')
      .slice(0, 12)}`;
    await withAdmin(async (c) => {
      await c.query('SELECT pg_advisory_lock(4785230459785832307)');
      try {
        const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount) return;
        await c.query(`CREATE DATABASE "${name}_new"`);
        const ds = await openDatabase(dataSourceOptions({ path: databaseUrl(`${name}_new`), pool: 1 }));
        await ds.destroy();
        await c.query(`ALTER DATABASE "${name}_new" RENAME TO "${name}"`);
      } finally {
        await c.query('SELECT pg_advisory_unlock(4785230459785832307)');
      }
    });
    return name;
  })();
  return template;
}

/** A new database on the test server, with `migrated` every migration applied; dropped (sessions cut) by `drop`. */
export async function freshPgDatabase(migrated = true): Promise<TestDatabase> {
  const name = `bmi_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const from = migrated ? ` TEMPLATE "${await migratedTemplate()}"` : '';
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"${from}`));
  return {
    location: databaseUrl(name),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** The database of one test app: SQLite in memory, or a fresh PostgreSQL database (empty unless `migrated`). */
export async function freshTestDatabase(migrated = true): Promise<TestDatabase> {
  if (testEngine() === 'postgres') return freshPgDatabase(migrated);
  return { location: ':memory:', drop: async () => undefined };
}

/** What a foreign key violation says on either engine. */
export const FK_VIOLATION = /FOREIGN KEY constraint failed|violates foreign key constraint/;
/** What a unique constraint violation says on either engine. */
export const UNIQUE_VIOLATION = /UNIQUE constraint failed|violates unique constraint/;

/** The names of the tables whose name starts with `prefix`, sorted, on either engine. */
export async function tableNames(ds: DataSource, prefix = ''): Promise<string[]> {
  const rows: { name: string }[] =
    ds.options.type === 'postgres'
      ? await ds.query(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE $1`,
          [`${prefix}%`],
        )
      : await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?`, [`${prefix}%`]);
  return rows.map((r) => r.name).sort();
}

/**
 * A database for several apps at once, as several instances share one: an SQLite file (in a new temp dir) or a
 * fresh PostgreSQL database, removed by `drop`.
 */
export async function sharedTestDatabase(engine = testEngine()): Promise<TestDatabase> {
  if (engine === 'postgres') return freshPgDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'bmi-db-'));
  return { location: path.join(dir, 'bmi.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}
