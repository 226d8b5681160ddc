import { runCli } from './program';

/** Entry point of the `bmi` command (bin/bmi.js). */
runCli(process.argv, { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    // let pending output drain instead of calling process.exit
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bmi: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
