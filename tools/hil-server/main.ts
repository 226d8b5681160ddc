/**
 * The HIL-compatible server as a process:
 *   npm run hil:server -- --seed config/hil-seed.json [--port 7000] [--host 127.0.0.1] [--quiet]
 * Prints one line with its URL when it is ready; stops on SIGTERM/SIGINT.
 */
import { startHilServer } from './server';
import { loadSeedFile } from './state';

const USAGE = 'usage: hil-server --seed <file.json> [--port 7000] [--host 127.0.0.1] [--quiet]';

function parseArgs(argv: string[]): { seed: string; port: number; host: string; quiet: boolean } {
  const out = { seed: '', port: 7000, host: '127.0.0.1', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') out.seed = value();
    else if (a === '--port') out.port = Number(value());
    else if (a === '--host') out.host = value();
    else if (a === '--quiet') out.quiet = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.seed) throw new Error('--seed is required');
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be 0..65535');
  return out;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const server = await startHilServer({
    seed: loadSeedFile(args.seed),
    port: args.port,
    host: args.host,
    log: args.quiet ? undefined : (line) => console.error(`hil-server: ${line}`),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`hil-server: ${signal}, stopping`);
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Only now: whoever waits for this line may signal at once, and before the handlers a signal kills outright.
  console.log(`hil-server listening on ${server.url} (seed ${args.seed})`);
}

main().catch((e: unknown) => {
  console.error(`hil-server: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
