import { copyDatabase } from '../database/copy-database';
import { redactDbUrl } from '../database/db-location';

/**
 * `npm run db:copy -- <sqlite file> <postgres://user@host:port/database>`: moves BMI's SQLite database to an
 * empty PostgreSQL database, every id kept (see copyDatabase). Stop BMI first. The password may be left out of
 * the URL (which other users see in the process list) and given in PGPASSWORD. Exits 1 with the reason when it
 * cannot (the target is not empty, a URL is wrong, the server does not answer); the target is then left as it
 * was.
 */
async function main(): Promise<void> {
  const [from, to] = process.argv.slice(2);
  if (!from || !to || process.argv.length > 4) {
    process.stderr.write(
      'usage: [PGPASSWORD=…] npm run db:copy -- <sqlite file> <postgres://user[:password]@host:port/database>\n',
    );
    process.exit(2);
  }
  process.stderr.write(`copying ${from} to ${redactDbUrl(to)}\n`);
  await copyDatabase(from, to, (line) => process.stderr.write(`  ${line}\n`));
  process.stderr.write('done: point [db] url of every instance at the PostgreSQL database\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`db:copy failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
