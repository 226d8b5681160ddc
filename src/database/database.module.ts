import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Logger, Module } from '@nestjs/common';
import * as sqlite3 from 'sqlite3';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions, LoggerOptions, MigrationExecutor } from 'typeorm';
import { dbLocation } from './db-location';
import { AppConfig } from '../config/app-config';
import type { DbSection } from '../config/sections';
import { STANDALONE_ENTITIES } from '../modules/standalone/standalone.entities';
import { ImageEntity } from '../modules/images/image.entity';
import { ProjectEntity } from '../modules/projects/project.entity';
import { InitialSchema1764100000000 } from './migrations/1764100000000-initial-schema';
import { Standalone1764200000000 } from './migrations/1764200000000-standalone';
import { ImageExported1764300000000 } from './migrations/1764300000000-image-exported';
import { OperationJournal1764400000000 } from './migrations/1764400000000-operation-journal';
import { OperationClient1764500000000 } from './migrations/1764500000000-operation-client';
import { OperationEntity } from '../modules/operations/operation.entity';
import { LeaseEntity, ResourceLockEntity } from '../modules/operations/coordination.entities';
import { Coordination1764600000000 } from './migrations/1764600000000-coordination';
import { ApiV11764700000000 } from './migrations/1764700000000-api-v1';
import { IdempotencyKeyEntity } from '../common/http/idempotency.entity';
import { Audit1764800000000 } from './migrations/1764800000000-audit';
import { AuditRecordEntity } from '../modules/audit/audit-record.entity';
import { IscsiChap1764900000000 } from './migrations/1764900000000-iscsi-chap';
import { NodeBmc1765000000000 } from './migrations/1765000000000-node-bmc';
import { IscsiCredentialEntity } from '../modules/iscsi/iscsi-credential.entity';

export const ENTITIES = [
  ProjectEntity,
  ImageEntity,
  ...STANDALONE_ENTITIES,
  OperationEntity,
  ResourceLockEntity,
  LeaseEntity,
  IdempotencyKeyEntity,
  AuditRecordEntity,
  IscsiCredentialEntity,
];
export const MIGRATIONS = [
  InitialSchema1764100000000,
  Standalone1764200000000,
  ImageExported1764300000000,
  OperationJournal1764400000000,
  OperationClient1764500000000,
  Coordination1764600000000,
  ApiV11764700000000,
  Audit1764800000000,
  IscsiChap1764900000000,
  NodeBmc1765000000000,
];

/**
 * The SQLite file of `[db] path`, made (with its directory) when missing, readable by BMI's user only: it holds
 * password hashes and CHAP secrets. A file (or its -wal or -shm, which SQLite makes with the file's mode) that
 * others can read is made private, with a warning.
 */
export function sqliteFile(file: string): string {
  if (file === ':memory:') return file;
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f) || (statSync(f).mode & 0o077) === 0) continue;
    chmodSync(f, 0o600);
    new Logger('Database').warn(`${f} was readable by other users: its mode is now 0600`);
  }
  return file;
}

/**
 * The TypeORM options for `[db] path`: the schema is owned by the migrations (never `synchronize`), which
 * `openDatabase` runs.
 *
 * SQLite: foreign keys enforced, write-ahead logging (a commit is one append and one fsync of the WAL file
 * instead of the rollback journal's three, and readers such as another process's `bmi` command or a backup
 * with `sqlite3 .backup` do not block the writer; the database is then the file with its `-wal` and `-shm`
 * companions).
 *
 * PostgreSQL: a pool of `[db] pool` connections, each named after the instance in `pg_stat_activity`.
 */
export function dataSourceOptions(db: Pick<DbSection, 'path' | 'pool'>, name = 'bmi'): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: ['error'] as LoggerOptions,
  };
  const where = dbLocation(db.path);
  if (where.engine === 'postgres') {
    return { ...common, type: 'postgres', url: where.url, applicationName: name, extra: { max: db.pool } };
  }
  return {
    ...common,
    type: 'sqlite',
    database: sqliteFile(where.file),
    // TypeORM turns on sqlite3's verbose mode, which wraps every call to keep a long stack trace: a few ms of
    // CPU per operation for a trace no error of BMI's needs
    driver: { ...sqlite3, verbose: () => sqlite3 },
    enableWAL: true,
    busyTimeout: 5000,
  };
}

/**
 * Opens the database and brings its schema up to date, each migration in its own transaction. On PostgreSQL
 * several instances may start at once: the migrations run under an advisory lock, so that one instance applies
 * them and the others find them applied.
 */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    if (options.type !== 'postgres') {
      await dataSource.runMigrations({ transaction: 'each' });
      return dataSource;
    }
    // the lock and the migrations on one session: a pool of one connection must do
    const runner = dataSource.createQueryRunner();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await runner.release();
    }
    return dataSource;
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
}

/** The advisory lock key of schema migrations (any constant of BMI's own: "BMI" "migr"). */
const MIGRATION_LOCK = '4785230459785832306';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => dataSourceOptions(config.db),
      dataSourceFactory: (options) => openDatabase(options!),
    }),
  ],
})
export class DatabaseModule {}
