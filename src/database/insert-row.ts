import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * INSERTs one row and returns its id: never save(), which turns a row with an id into an UPDATE of whatever
 * row has that id. A row may come with its id (an admin's explicit id, a row put back by an undo): ids name
 * Ceph images, so they are kept as given. On PostgreSQL TypeORM leaves a generated id out of its INSERT, and
 * the id sequence does not move past an id given by hand; there the row is written with its id and the
 * sequence moved past it (never back: a concurrent insert may hold a higher value).
 */
export async function insertRow<T extends ObjectLiteral & { id?: number }>(
  m: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
): Promise<number> {
  if (values.id === undefined || m.connection.options.type !== 'postgres') {
    const result = await m.insert(entity, values as never);
    return values.id ?? (result.identifiers[0].id as number);
  }
  const meta = m.connection.getMetadata(entity);
  const columns = meta.columns.filter((c) => (values as Record<string, unknown>)[c.propertyName] !== undefined);
  const table = meta.tableName;
  await m.query(
    `INSERT INTO "${table}" (${columns.map((c) => `"${c.databaseName}"`).join(', ')}) ` +
      `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
    columns.map((c) => (values as Record<string, unknown>)[c.propertyName]),
  );
  await m.query(
    `SELECT setval(s, GREATEST(COALESCE(pg_sequence_last_value(s), 0), $1)) ` +
      `FROM (SELECT pg_get_serial_sequence($2, 'id')::regclass AS s) seq`,
    [values.id, `"${table}"`],
  );
  return values.id;
}
