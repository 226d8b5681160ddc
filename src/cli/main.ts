import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './program';

/** The version of the package the CLI was built from. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Entry point of the `bmi` command (bin/bmi.js). */
runCli(process.argv, { env: process.env, stdout: process.stdout, stderr: process.stderr, version: version() }).then(
  (code) => {
    // let pending output drain instead of calling process.exit
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bmi: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
