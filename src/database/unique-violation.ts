import { QueryFailedError } from 'typeorm';

/** Whether a failed query broke a UNIQUE or PRIMARY KEY constraint, on SQLite or on PostgreSQL. */
export function isUniqueViolation(e: unknown): boolean {
  if (!(e instanceof QueryFailedError)) return false;
  const driverError = (e as QueryFailedError & { driverError?: { code?: string; message?: string } }).driverError;
  return (
    driverError?.code === '23505' || // PostgreSQL
    (driverError?.code === 'SQLITE_CONSTRAINT' && /UNIQUE/i.test(driverError.message ?? e.message))
  );
}
