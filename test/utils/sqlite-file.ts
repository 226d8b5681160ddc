import * as sqlite3 from 'sqlite3';
import { DataSource } from 'typeorm';
import { ENTITIES, MIGRATIONS } from '../../src/database/database.module';

/** Runs SQL on an SQLite file with the plain sqlite3 driver, as the original's SQLAlchemy would have. */
export function rawExec(file: string, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (openErr) => {
      if (openErr) return reject(openErr);
      db.exec(sql, (err) => db.close((closeErr) => (err || closeErr ? reject(err ?? closeErr) : resolve())));
    });
  });
}

/** Opens an SQLite file the way DatabaseModule does: migrations run at start, never synchronize. */
export function openMigrated(file: string): Promise<DataSource> {
  return new DataSource({
    type: 'sqlite',
    database: file,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
  }).initialize();
}
