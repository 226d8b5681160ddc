/**
 * Where BMI's database is, from `[db] path` (alias `[db] url`): an SQLite file given as a plain path, as the
 * original's SQLAlchemy URL `sqlite:///path`, or `:memory:`; or a PostgreSQL server given as
 * `postgres://user:password@host:port/database` (or `postgresql://…`, with libpq's query options).
 */
export type DbLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

export function dbLocation(value: string): DbLocation {
  if (POSTGRES_URL.test(value)) return { engine: 'postgres', url: value };
  return { engine: 'sqlite', file: value.replace(/^sqlite:\/\/\//, '') };
}

/** Why `value` cannot name a database, or null. Never repeats a password. */
export function dbLocationProblem(value: string): string | null {
  if (POSTGRES_URL.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return `[db] url is not a valid PostgreSQL URL (postgres://user:password@host:port/database)`;
    }
    if (!url.hostname) return `[db] url ${redactDbUrl(value)} names no host`;
    if (url.pathname.replace(/^\//, '') === '') return `[db] url ${redactDbUrl(value)} names no database`;
    return null;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('sqlite:///')) {
    return `[db] url "${value.split('://')[0]}://…": only sqlite:/// paths and postgres:// URLs are supported`;
  }
  return null;
}

/** The location as it may be logged: a URL's password (in its user part or a `password=` option) as `***`. */
export function redactDbUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^/]*@/i, '$1***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}
