import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import * as sqlite3 from 'sqlite3';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { STANDALONE_ENTITIES } from '../modules/standalone/standalone.entities';
import { ImageEntity } from '../modules/images/image.entity';
import { ProjectEntity } from '../modules/projects/project.entity';
import { InitialSchema1764100000000 } from './migrations/1764100000000-initial-schema';
import { Standalone1764200000000 } from './migrations/1764200000000-standalone';
import { ImageExported1764300000000 } from './migrations/1764300000000-image-exported';
import { OperationJournal1764400000000 } from './migrations/1764400000000-operation-journal';
import { OperationClient1764500000000 } from './migrations/1764500000000-operation-client';
import { OperationEntity } from '../modules/operations/operation.entity';

export const ENTITIES = [ProjectEntity, ImageEntity, ...STANDALONE_ENTITIES, OperationEntity];
export const MIGRATIONS = [
  InitialSchema1764100000000,
  Standalone1764200000000,
  ImageExported1764300000000,
  OperationJournal1764400000000,
  OperationClient1764500000000,
];

/** `[db] path` may be a plain path or, as in the original's docs, an SQLAlchemy URL `sqlite:///path`. */
export function sqliteFile(dbPath: string): string {
  const file = dbPath.replace(/^sqlite:\/\/\//, '');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return file;
}

/**
 * TypeORM on SQLite with foreign keys enforced and the schema owned by migrations (never `synchronize`).
 * Write-ahead logging: a commit is one append and one fsync of the WAL file instead of the rollback journal's
 * three, and readers (another process's `bmi` command, a backup with `sqlite3 .backup`) do not block the
 * writer. The database is then the file with its `-wal` and `-shm` companions.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        type: 'sqlite',
        database: sqliteFile(config.db.path),
        // TypeORM turns on sqlite3's verbose mode, which wraps every call to keep a long stack trace: a few ms
        // of CPU per operation for a trace no error of BMI's needs
        driver: { ...sqlite3, verbose: () => sqlite3 },
        entities: ENTITIES,
        migrations: MIGRATIONS,
        migrationsRun: true,
        migrationsTransactionMode: 'each',
        synchronize: false,
        enableWAL: true,
        busyTimeout: 5000,
        logging: ['error'],
      }),
    }),
  ],
})
export class DatabaseModule {}
