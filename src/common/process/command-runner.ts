/**
 * CommandRunner: the only seam through which BMI runs a system command (tgtadm today). Commands are argv arrays,
 * never shell strings: nothing is interpreted, quoted or globbed. Implementations run them with LC_ALL=C, so
 * that outputs parse the same on every machine, and log them with secrets redacted.
 *
 * A command that exits non-zero (or cannot be started, or times out) is a CommandFailedError carrying the exit
 * code, stdout and stderr, unless the caller passes `check: false` and reads the exit code itself.
 */
export abstract class CommandRunner {
  abstract run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

export interface RunOptions {
  /** throw CommandFailedError when the exit code is not 0 (default true) */
  check?: boolean;
  /** kill the command (SIGKILL) after this many milliseconds; default: the runner's */
  timeoutMs?: number;
  /** written to the command's standard input (default: none, stdin is closed) */
  input?: string;
  /** extra environment; LC_ALL is always C */
  env?: Record<string, string>;
  /** values to show as *** wherever they appear in the logged argv (passwords, keys) */
  secrets?: readonly string[];
}

export interface CommandResult {
  /**
   * The exit status. By the shell's conventions when the command did not exit by itself: 127 could not be
   * started (not installed), 124 timed out, 128 + n killed by signal n.
   */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Exit codes for the cases where a command never exited by itself. */
export const EXIT_NOT_STARTED = 127;
export const EXIT_TIMED_OUT = 124;

/** A command failed: its redacted argv, exit code and both outputs, for the log (never for a client). */
export class CommandFailedError extends Error {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    /** the command as logged (secrets redacted) */
    readonly argv: readonly string[],
    result: CommandResult,
    readonly timedOut = false,
  ) {
    super(
      `${argv[0] ?? '(empty command)'} ${timedOut ? 'timed out' : `exited with ${result.exitCode}`}` +
        (result.stderr.trim() ? `: ${lastLine(result.stderr)}` : ''),
    );
    this.name = 'CommandFailedError';
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1].slice(0, 300);
}

/** Flags whose next argument is a secret, and `key=value` pairs whose value is one (in any argument). */
const SECRET_FLAGS = /^--?(password|passwd|secret|token|key|chap-?password)$/i;
const SECRET_PAIRS = /((?:^|[;,&\s])(?:password|passwd|secret|token|key)=)[^;,&\s]*/gi;

/**
 * The argv as it may be logged: every listed secret replaced by ***, the argument after a `--password`-like
 * flag too, and the value of `password=…`-like pairs inside an argument.
 */
export function redactArgv(argv: readonly string[], secrets: readonly string[] = []): string[] {
  const known = secrets.filter((s) => s.length > 0);
  return argv.map((arg, i) => {
    if (i > 0 && SECRET_FLAGS.test(argv[i - 1])) return '***';
    let out = arg.replace(SECRET_PAIRS, '$1***');
    for (const s of known) out = out.split(s).join('***');
    return out;
  });
}

/** argv as one line a person can paste into a shell (for logs only; commands never go through a shell). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
