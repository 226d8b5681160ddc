import axios, { AxiosError, AxiosInstance } from 'axios';
import { Credentials, HilClient, HilNode } from '../hil.client';
import {
  HilAuthenticationError,
  HilBadResponseError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  HilUnavailableError,
} from '../hil.errors';

export interface HttpHilOptions {
  /** HIL base URL, with or without the `/v0` API prefix */
  url: string;
  /** total time allowed for one request, in ms */
  timeoutMs: number;
}

type Resource = { kind: 'node'; name: string } | { kind: 'project'; name: string } | { kind: 'other' };

/**
 * HIL over HTTP (../shared/docs/hil-contract.md), with the caller's credentials as Basic auth on every
 * request. HIL answers JSON with a text/html content type, so bodies are parsed here, never trusted by type.
 * Credentials never appear in an error message: errors carry HIL's own `msg` or a status.
 */
export class HttpHilClient extends HilClient {
  private readonly http: AxiosInstance;

  constructor(options: HttpHilOptions, http?: AxiosInstance) {
    super();
    this.http =
      http ??
      axios.create({
        baseURL: apiBase(options.url),
        timeout: options.timeoutMs,
        responseType: 'text',
        transformResponse: (body: unknown) => body,
        validateStatus: () => true,
        maxRedirects: 0,
      });
  }

  async getNode(c: Credentials, node: string): Promise<HilNode> {
    const body = await this.get(c, `node/${encodeURIComponent(node)}`, { kind: 'node', name: node });
    if (!isObject(body) || typeof body.name !== 'string' || !Array.isArray(body.nics)) {
      throw new HilBadResponseError(`HIL answered an unexpected body for node ${node}`);
    }
    const nics = body.nics.filter(isObject).map((n) => ({ label: String(n.label), macaddr: String(n.macaddr) }));
    return { name: body.name, project: typeof body.project === 'string' ? body.project : null, nics };
  }

  async listProjectNodes(c: Credentials, project: string): Promise<string[]> {
    return stringList(
      await this.get(c, `project/${encodeURIComponent(project)}/nodes`, { kind: 'project', name: project }),
    );
  }

  async listFreeNodes(c: Credentials): Promise<string[]> {
    return stringList(await this.get(c, 'nodes/free', { kind: 'other' }));
  }

  async isAdmin(c: Credentials): Promise<boolean> {
    try {
      await this.get(c, 'projects', { kind: 'other' });
      return true;
    } catch (e) {
      if (e instanceof HilAuthenticationError && /administrator-only/i.test(e.message)) return false;
      throw e;
    }
  }

  private async get(c: Credentials, path: string, resource: Resource): Promise<unknown> {
    let res;
    try {
      res = await this.http.get<string>(path, { auth: { username: c.username, password: c.password } });
    } catch (e) {
      const code = e instanceof AxiosError ? e.code : undefined;
      throw new HilUnavailableError(`HIL is unreachable (${code ?? 'network error'})`);
    }
    const body = parseJson(res.data);
    const msg = isObject(body) && typeof body.msg === 'string' ? body.msg : undefined;
    if (res.status === 200) {
      if (body === undefined) throw new HilBadResponseError(`HIL answered ${path} with a body that is not JSON`);
      return body;
    }
    if (res.status === 401) throw new HilAuthenticationError(msg ?? 'Authentication Failed');
    if (res.status === 404) {
      // HIL's database auth backend answers 404 for an unknown user: that is an authentication failure.
      if (msg && /^User .* does not exist\.?$/.test(msg)) throw new HilAuthenticationError();
      if (resource.kind === 'node') throw new HilNodeNotFoundError(resource.name);
      if (resource.kind === 'project') throw new HilProjectNotFoundError(resource.name);
    }
    throw new HilBadResponseError(`HIL answered ${res.status}${msg ? `: ${msg}` : ''}`);
  }
}

/** `http://hil:7000`, `http://hil:7000/` and `http://hil:7000/v0` all mean `http://hil:7000/v0/`. */
export function apiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v\d+$/.test(trimmed) ? `${trimmed}/` : `${trimmed}/v0/`;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringList(body: unknown): string[] {
  if (!Array.isArray(body) || !body.every((x) => typeof x === 'string')) {
    throw new HilBadResponseError('HIL answered an unexpected body (not a list of names)');
  }
  return body as string[];
}
