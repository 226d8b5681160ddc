import {
  BmiApiError,
  BmiConnectionError,
  type Client,
  createBmiClient,
  type Operation,
  SUCCEEDED_STATES,
  unwrap,
  waitForOperation,
} from '@bmi/client';
import { CliError, EXIT, ServerError, UnreachableError } from './errors';
import { Output, OutputOptions, Printer, Row } from './output';
import { ProgressLine } from './progress';
import {
  ClientSettings,
  clientConfigPath,
  Env,
  PasswordPrompt,
  readClientConfig,
  resolveCredentials,
  resolveUrl,
} from './settings';

/** The options every command accepts. */
export interface GlobalOptions extends OutputOptions {
  url?: string;
}

export interface SessionDeps {
  env: Env;
  stdout: Output;
  stderr: Output;
  /** send requests with this fetch function (tests) */
  fetch?: typeof fetch;
  prompt: PasswordPrompt;
}

/** A call of the SDK: a promise of its answer. */
export type Call<T> = (client: Client) => Promise<{ data?: T; error?: unknown; response?: Response }>;

/** The columns of an operation, as commands print it. */
export const OPERATION_COLUMNS = ['id', 'kind', 'project', 'state', 'progress', 'error', 'started'];

export function operationRow(op: Operation): Row {
  const p = op.progress;
  return {
    id: op.id,
    kind: op.kind,
    project: op.project,
    actor: op.actor,
    state: op.state,
    args: op.args,
    progress: p && p.total > 0 ? `${Math.round((100 * p.done) / p.total)}%` : null,
    steps_done: op.steps.filter((s) => s.state === 'done').length,
    error: op.error,
    started: op.started,
    updated: op.updated,
  };
}

/**
 * One run of the CLI: finds BMI and the credentials when a command first needs them (so that --help works
 * without either), makes every call through the SDK, turns its errors into exit codes, and prints.
 */
export class Session {
  readonly print: Printer;
  private settings?: Promise<ClientSettings>;
  private sdk?: Client;

  constructor(
    private readonly deps: SessionDeps,
    private readonly globals: () => GlobalOptions,
  ) {
    this.print = new Printer(deps.stdout, globals);
  }

  /** Calls BMI; an error answer becomes a ServerError (its exit code by status), no answer an UnreachableError. */
  call<T>(call: Call<T>): Promise<T> {
    return this.withClient((client) => unwrap(call(client)));
  }

  /**
   * A long operation (BMI answered 202): printed as it is, or with `wait` followed to its end with its
   * progress on stderr; one that did not end done (or rolled forward by recovery) is an error.
   */
  async operation(call: Call<Operation>, wait: boolean | undefined): Promise<void> {
    let op = await this.call(call);
    if (wait) {
      const line = new ProgressLine(this.deps.stderr);
      const started = op;
      try {
        op = await this.withClient((client) =>
          waitForOperation(client, started.project ?? '', started.id, { onUpdate: (o) => line.update(o) }),
        );
      } finally {
        line.end();
      }
    }
    this.print.one(operationRow(op), OPERATION_COLUMNS);
    if (wait && !SUCCEEDED_STATES.includes(op.state)) {
      throw new CliError(`Error: operation ${op.id} ended ${op.state}: ${op.error ?? ''}`, EXIT.FAILED);
    }
  }

  /** Polls an operation until it ends, telling `onUpdate` each state it sees; prints nothing. */
  follow(op: Operation, onUpdate?: (o: Operation) => void): Promise<Operation> {
    return this.withClient((client) => waitForOperation(client, op.project ?? '', op.id, { onUpdate }));
  }

  /** Where progress goes (a terminal gets it redrawn in place). */
  get stderr(): Output {
    return this.deps.stderr;
  }

  private async withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const settings = await this.resolve();
    this.sdk ??= createBmiClient({
      baseUrl: settings.url,
      username: settings.username,
      password: settings.password,
      fetch: this.deps.fetch,
    });
    try {
      return await work(this.sdk);
    } catch (e) {
      if (e instanceof BmiApiError) throw new ServerError(e.status, e.code, e.message);
      if (e instanceof BmiConnectionError) throw new UnreachableError(settings.url, e.reason);
      throw e;
    }
  }

  private resolve(): Promise<ClientSettings> {
    this.settings ??= (async () => {
      const fileName = clientConfigPath(this.deps.env);
      const file = readClientConfig(fileName);
      const url = resolveUrl(this.deps.env, this.globals().url, file, fileName);
      return { url, ...(await resolveCredentials(this.deps.env, file, fileName, this.deps.prompt)) };
    })();
    return this.settings;
  }
}
