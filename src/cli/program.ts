import { Command, CommanderError } from 'commander';
import { addAdminCommands } from './commands/admin';
import { addImageCommands } from './commands/images';
import { addNodeCommands } from './commands/nodes';
import { addOperationCommands } from './commands/operations';
import { addStandaloneCommands, readProcessStdin, ReadStdin } from './commands/standalone';
import { CliError, EXIT } from './errors';
import { Output, GlobalOptions, Session } from './session';
import { Env } from './settings';
import { axiosTransport, fetchTransport, Transport } from './transport';

export interface CliDeps {
  env: Env;
  stdout: Output;
  stderr: Output;
  /** send requests with this fetch function instead of the default (axios) transport */
  fetch?: typeof fetch;
  /** or with this transport */
  transport?: Transport;
  /** standard input, read to its end (--password-stdin); default: process.stdin */
  readStdin?: ReadStdin;
}

const FOOTER = `
Every command is a request to the BMI server, made with your HIL credentials.

Environment:
  HIL_USERNAME, HIL_PASSWORD  your HIL credentials (required; sent as HTTP Basic auth); in standalone mode,
                              your BMI user name and password
  BMI_URL                     the server's URL, e.g. http://127.0.0.1:8000 (same as --url); without it, the
                              server's config file gives [rest_api] ip and port
  BMI_CONFIG                  that config file (default /etc/bmi/bmiconfig.cfg)
  BMI_ADMIN_PROJECT           the admin project (default: [bmi] admin_project, or bmi_infra)
  BMI_NEW_PASSWORD            the password for "user create" and "user passwd" (or use --password-stdin)

Output:
  Tables by default; "Success" when the server answers just that; names and ids as they are.
  With --json: the server's JSON answer on one line, and {"status":"Success"} for a plain success.
  Errors go to stderr as "Error (<HTTP status>): <message>".

Exit codes:
  0 success, 1 refused by the server (or credentials not set), 2 usage or configuration error,
  3 server unreachable`;

/** The whole `bmi` command tree, writing to the given outputs and never calling process.exit. */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('bmi');
  const transport = deps.transport ?? (deps.fetch ? fetchTransport(deps.fetch) : axiosTransport());
  const session = new Session(deps.env, deps.stdout, transport, () => program.opts<GlobalOptions>());
  program
    .description('Bare Metal Imaging: boot bare-metal nodes from copy-on-write clones of golden images')
    .option('--url <url>', 'URL of the BMI server (overrides BMI_URL and the config file)')
    .option('--json', 'print the raw JSON result instead of a table')
    .addHelpText('after', FOOTER)
    // these settings are inherited by every command added below
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.stdout.write(text),
      writeErr: (text) => deps.stderr.write(text),
    })
    .allowExcessArguments(false)
    .showHelpAfterError('(run with --help for usage)');
  addImageCommands(program, session);
  addNodeCommands(program, session);
  addAdminCommands(program, session);
  addOperationCommands(program, session);
  addStandaloneCommands(program, session, { env: deps.env, readStdin: deps.readStdin ?? readProcessStdin });
  return program;
}

/**
 * Runs the CLI on `argv` (as in process.argv: node, script, then the arguments) and returns the exit code.
 * Problems are reported on stderr as one line.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv, { from: 'node' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or the help); only --help and --version end well
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof CliError) {
      deps.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    deps.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.REFUSED;
  }
}
