/** Exit codes of the `bmi` CLI (also in its --help and in the README). */
export const EXIT = {
  OK: 0,
  /** BMI failed the request (5xx), or answered something unexpected; an operation waited for failed */
  FAILED: 1,
  /** bad command line, unreadable configuration, or a setting missing */
  USAGE: 2,
  /** BMI could not be reached */
  UNREACHABLE: 3,
  /** the credentials were refused (401), or the caller may not do this (403) */
  AUTH: 4,
  /** what the command names does not exist (404) */
  NOT_FOUND: 5,
  /** the request clashes with the current state (409, 412, 422): exists already, in use, busy… */
  CONFLICT: 6,
} as const;

/** An error the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code of an error answer of BMI, by its status. */
export function exitCodeOf(status: number): number {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409 || status === 412 || status === 422) return EXIT.CONFLICT;
  if (status === 400) return EXIT.USAGE;
  return EXIT.FAILED;
}

/** BMI answered with an error: `Error (<status> <CODE>): <message>`. */
export class ServerError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
  ) {
    super(`Error (${status} ${code}): ${serverMessage}`, exitCodeOf(status));
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(`Error: ${message}`, EXIT.USAGE);
  }
}

export class UnreachableError extends CliError {
  constructor(url: string, cause: string) {
    super(`Error: cannot reach the BMI server at ${url}: ${cause}`, EXIT.UNREACHABLE);
  }
}
