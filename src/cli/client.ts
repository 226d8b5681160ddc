import { ServerError, UnreachableError, CliError, EXIT } from './errors';
import { Credentials } from './settings';
import { HttpRequest, Transport, TransportError } from './transport';

/** What a successful call returned: the plain text `Success`, or a JSON (or other text) value. */
export type ApiResult = { kind: 'success' } | { kind: 'value'; value: unknown };

export type Fields = Record<string, string | undefined>;

/**
 * The BMI server's HTTP API as the CLI uses it: HTTP Basic auth with the caller's HIL credentials, form-encoded
 * bodies, and the original's answers (200 `Success` or a JSON body; errors as plain-text messages).
 */
export class BmiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly credentials: Credentials,
    private readonly transport: Transport,
  ) {}

  /** Sends `fields` (undefined ones are left out) to `path`, relative to the base URL. */
  async call(method: HttpRequest['method'], path: string, fields: Fields): Promise<ApiResult> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
    const url = new URL(path, this.baseUrl).toString();
    const token = Buffer.from(`${this.credentials.username}:${this.credentials.password}`, 'utf8').toString('base64');
    let res;
    try {
      res = await this.transport({
        method,
        url,
        headers: {
          authorization: `Basic ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json, text/plain',
        },
        body: form.toString(),
      });
    } catch (e) {
      if (e instanceof TransportError) throw new UnreachableError(this.baseUrl, e.message);
      throw e;
    }
    const isJson = /\bjson\b/i.test(res.contentType);
    if (res.status < 200 || res.status > 299) {
      throw new ServerError(res.status, errorMessage(res.body, isJson, res.status));
    }
    if (isJson) {
      try {
        return { kind: 'value', value: JSON.parse(res.body) as unknown };
      } catch {
        throw new CliError(`Error: the server sent invalid JSON: ${res.body.slice(0, 200)}`, EXIT.REFUSED);
      }
    }
    if (res.body.trim() === 'Success') return { kind: 'success' };
    return { kind: 'value', value: res.body };
  }
}

/** The original's routes answer errors in plain text; the app's other routes in JSON `{message, code}`. */
function errorMessage(body: string, isJson: boolean, status: number): string {
  if (isJson) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
      if (Array.isArray(parsed.message)) return parsed.message.join('; ');
    } catch {
      // not JSON after all: show the text
    }
  }
  return body.trim() || `HTTP ${status}`;
}
