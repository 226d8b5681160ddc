import type { QueryRunner, ValueTransformer } from 'typeorm';

/**
 * The few places where SQLite and PostgreSQL need different SQL, for the migrations: everything else they run
 * is written once, in the subset both understand (quoted names, named constraints, TRUE/FALSE, bigint ms times).
 */
export function isPostgres(q: QueryRunner): boolean {
  return q.connection.options.type === 'postgres';
}

/**
 * An integer primary key whose values are never reused, even after the newest row is deleted: ids name Ceph
 * images (`<uid>img<id>`), and an id given again could name an image that is still there.
 */
export function serialId(q: QueryRunner): string {
  return isPostgres(q) ? '"id" SERIAL PRIMARY KEY NOT NULL' : '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL';
}

/** bigint columns come back as strings from PostgreSQL: ms timestamps fit a JS number. */
export const msTime: ValueTransformer = { to: (v: number) => v, from: (v: string | number) => Number(v) };
