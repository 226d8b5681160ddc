/** Exit codes of the `bmi` CLI. */
export const EXIT = {
  OK: 0,
  /** the server refused the request (4xx/5xx), or HIL_USERNAME / HIL_PASSWORD is not set */
  REFUSED: 1,
  /** bad command line or unreadable configuration */
  USAGE: 2,
  /** the server could not be reached */
  UNREACHABLE: 3,
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

/** The server answered with a 4xx or 5xx status. */
export class ServerError extends CliError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`Error (${status}): ${serverMessage}`, EXIT.REFUSED);
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
