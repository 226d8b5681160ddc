import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { addAdminCommands } from './commands/admin';
import { addCompletionCommand } from './commands/completion';
import { addImageCommands } from './commands/images';
import { addFleetCommands } from './commands/fleet';
import { addNodeCommands } from './commands/nodes';
import { addUploadCommands } from './commands/upload';
import { addOperationCommands } from './commands/operations';
import { addStandaloneCommands, readProcessStdin, ReadStdin } from './commands/standalone';
import { CliError, EXIT } from './errors';
import { Format, FORMATS, Output } from './output';
import { GlobalOptions, Session } from './session';
import { clientConfigPath, Env, PasswordPrompt, terminalPrompt } from './settings';

export interface CliDeps {
  env: Env;
  stdout: Output;
  stderr: Output;
  /** send requests with this fetch function instead of Node's own (tests) */
  fetch?: typeof fetch;
  /** standard input, read to its end (--password-stdin); default: process.stdin */
  readStdin?: ReadStdin;
  /** asks for a password no setting gives; default: on the terminal, when there is one */
  prompt?: PasswordPrompt;
  /** what --version prints */
  version?: string;
}

const footer = (env: Env) => `
Every command is a request to BMI's /v1 API, made as you (HTTP Basic).

Settings, first found wins:
  server      --url, BMI_URL, "url = …" in ${clientConfigPath(env)}
              (BMI_CLIENT_CONFIG names another file), or on the BMI host its own config
              (BMI_CONFIG, default /etc/bmi/bmiconfig.cfg: [rest_api] ip and port)
  user        BMI_USERNAME, HIL_USERNAME, "username = …" in that file
  password    BMI_PASSWORD, HIL_PASSWORD, "password = …" in that file (then readable by you
              only: chmod 600), or asked for on the terminal
  new password (user create, user passwd): --password-stdin, or BMI_NEW_PASSWORD

Output:
  -f table (default), json, yaml or value (values only, for scripts); -c COLUMN keeps that column
  (repeat it for more). JSON and YAML give objects keyed as in /v1; a command that returns nothing
  prints Success ({"status":"Success"}). Errors go to stderr as "Error (<status> <CODE>): <message>".
  Import, export, cp and snap create start an operation and print it; --wait follows it to its end
  with a progress bar (on a terminal), and "bmi op wait PROJECT ID" does so later.

Exit codes:
  0 success; 1 BMI failed (5xx), or an operation waited for did not end done; 2 usage, a bad
  setting or a field BMI refused (400); 3 BMI unreachable; 4 refused credentials or not allowed
  (401, 403); 5 not found (404); 6 conflict: exists already, in use, busy (409, 412, 422)

Shell completion: eval "$(bmi completion bash)"  (or zsh)`;

function format(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${FORMATS.join(', ')}.`);
  }
  return value as Format;
}

/** The whole `bmi` command tree, writing to the given outputs and never calling process.exit. */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('bmi');
  const session = new Session(
    {
      env: deps.env,
      stdout: deps.stdout,
      stderr: deps.stderr,
      fetch: deps.fetch,
      prompt: deps.prompt ?? terminalPrompt,
    },
    () => program.opts<GlobalOptions>(),
  );
  program
    .description('Bare Metal Imaging: boot bare-metal nodes from copy-on-write clones of golden images')
    .version(deps.version ?? 'unknown', '-V, --version', 'print the version of the CLI')
    .option('--url <url>', "BMI's URL (overrides BMI_URL and the settings file)")
    .addOption(new Option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`).argParser(format))
    .option('-c, --column <column>', 'print this column (repeat for more)', (v: string, all: string[] = []) => [
      ...all,
      v,
    ])
    .option('--json', 'same as -f json')
    .addHelpText('after', footer(deps.env))
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
  addFleetCommands(program, session);
  addUploadCommands(program, session);
  addAdminCommands(program, session);
  addOperationCommands(program, session);
  addStandaloneCommands(program, session, { env: deps.env, readStdin: deps.readStdin ?? readProcessStdin });
  addCompletionCommand(program, deps.stdout);
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
    return EXIT.FAILED;
  }
}
