import { BmiClient, Fields } from './client';
import { asJson, Render } from './format';
import { Credentials, Env, resolveCredentials, resolveServer, ServerSettings } from './settings';
import { HttpRequest, Transport } from './transport';

/** Where the CLI writes: process.stdout / process.stderr, or a buffer in tests. */
export interface Output {
  write(text: string): unknown;
}

/** The options every command accepts. */
export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

/**
 * One run of the CLI: resolves the server and the credentials when a command first needs them (so that
 * `--help` works without either), sends the request and prints the result.
 */
export class Session {
  private server?: ServerSettings;

  constructor(
    private readonly env: Env,
    private readonly stdout: Output,
    private readonly transport: Transport,
    private readonly globals: () => GlobalOptions,
  ) {}

  /** The admin project, sent with the admin-wide commands. */
  adminProject(): string {
    return this.settings().adminProject;
  }

  async send(method: HttpRequest['method'], path: string, fields: Fields, render: Render): Promise<void> {
    const server = this.settings();
    const credentials: Credentials = resolveCredentials(this.env);
    const result = await new BmiClient(server.url, credentials, this.transport).call(method, path, fields);
    const text = this.globals().json ? asJson(result) : render(result);
    this.stdout.write(`${text}\n`);
  }

  private settings(): ServerSettings {
    this.server ??= resolveServer(this.env, this.globals().url);
    return this.server;
  }
}
