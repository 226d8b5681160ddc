import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import axios, { AxiosError, AxiosInstance } from 'axios';
import { HilClient, HilNode } from '../hil.client';
import type { PowerAction, PowerState } from '../../power/power.driver';
import { PowerFailedError } from '../../power/power.errors';
import { Credentials } from '../../../common/auth/caller';
import { CallObserver, timed } from '../../../common/observability/metrics';
import {
  HilAuthenticationError,
  HilBadResponseError,
  HilBlockedError,
  HilNodeNotFoundError,
  HilProjectNotFoundError,
  HilUnavailableError,
} from '../hil.errors';

export interface HttpHilOptions {
  /** HIL base URL, with or without the `/v0` API prefix */
  url: string;
  /** total time allowed for one request, in ms */
  timeoutMs: number;
  /** time allowed to open a connection, in ms (default: the total time) */
  connectTimeoutMs?: number;
  /** extra attempts of a GET that could not reach HIL (default 2) */
  retries?: number;
  /** wait before the first extra attempt, tripled for each next one, in ms (default 100) */
  retryDelayMs?: number;
  /** told the time of every request (its attempts included) */
  observe?: CallObserver;
}

/** Errors that mean the request never reached HIL, so trying again is safe and may help. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNTIMEOUT', 'EHOSTUNREACH', 'EAI_AGAIN', 'EPIPE']);

type Resource = { kind: 'node'; name: string } | { kind: 'project'; name: string } | { kind: 'projects' };
type Answer = { status: number; data: string; headers: Record<string, unknown> };

/**
 * HIL over HTTP (../shared/docs/hil-contract.md), with the caller's credentials as Basic auth on every
 * request. HIL answers JSON with a text/html content type, so bodies are parsed here, never trusted by type.
 * Credentials never appear in an error message: errors carry HIL's own `msg` or a status.
 */
export class HttpHilClient extends HilClient {
  private readonly http: AxiosInstance;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly observe?: CallObserver;

  constructor(options: HttpHilOptions, client?: AxiosInstance) {
    super();
    this.observe = options.observe;
    const connectMs = options.connectTimeoutMs ?? options.timeoutMs;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.http =
      client ??
      axios.create({
        baseURL: apiBase(options.url),
        timeout: options.timeoutMs,
        responseType: 'text',
        transformResponse: (body: unknown) => body,
        validateStatus: () => true,
        maxRedirects: 0,
        proxy: false,
        // one pool of kept-alive connections to HIL, each given connectMs to open
        httpAgent: withConnectTimeout(new http.Agent({ keepAlive: true }), connectMs),
        httpsAgent: withConnectTimeout(new https.Agent({ keepAlive: true }), connectMs),
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

  async isAdmin(c: Credentials): Promise<boolean> {
    try {
      await this.get(c, 'projects', { kind: 'projects' });
      return true;
    } catch (e) {
      if (e instanceof HilAuthenticationError && /administrator-only/i.test(e.message)) return false;
      throw e;
    }
  }

  async power(c: Credentials, node: string, action: PowerAction): Promise<void> {
    // obmd reads a power cycle's body ({"force": false}: a soft reset where the BMC can), HIL passes it on
    await this.powerCall(c, 'post', node, `power_${action}`, action === 'cycle' ? { force: false } : undefined);
  }

  async powerStatus(c: Credentials, node: string): Promise<PowerState> {
    const body = await this.powerCall(c, 'get', node, 'power_status');
    const state = isObject(body) ? body.power_status : undefined;
    if (state !== 'on' && state !== 'off') {
      throw new HilBadResponseError(`the power status of ${node} came back as something else than on or off`);
    }
    return state;
  }

  /**
   * A power request. HIL checks the caller and answers with a 307 to the node's obmd, the URL carrying a token
   * of the node's; the redirect is followed here, once, with the same method and without the caller's
   * credentials, which are HIL's business only (an older HIL that talks to the BMC itself answers 200 at once).
   * A POST is not tried again: a power cycle that may have reached HIL is not sent twice.
   */
  private async powerCall(
    c: Credentials,
    method: 'get' | 'post',
    node: string,
    verb: string,
    data?: Record<string, unknown>,
  ): Promise<unknown> {
    const path = `node/${encodeURIComponent(node)}/${verb}`;
    return timed(this.observe, 'power', async () => {
      const res = await this.send(path, c, method, data);
      if (res.status !== 307 && res.status !== 308) {
        if (res.status >= 500) throw new PowerFailedError(`HIL failed ${verb} of ${node} (${res.status})`);
        if (res.status === 200) return parseJson(res.data) ?? null;
        return this.check(res, path, { kind: 'node', name: node });
      }
      const location = res.headers.location;
      if (typeof location !== 'string' || !/^https?:\/\/[^\s]+$/.test(location)) {
        throw new HilBadResponseError(`HIL sent ${verb} of ${node} to no usable address`);
      }
      let obmd: Answer;
      try {
        obmd = await this.http.request<string>({ method, url: location, data });
      } catch (e) {
        throw new PowerFailedError(
          `obmd of ${node} is unreachable (${e instanceof AxiosError ? e.code : 'network error'})`,
        );
      }
      if (obmd.status === 200) return parseJson(obmd.data) ?? null;
      if (obmd.status >= 500) throw new PowerFailedError(`obmd failed ${verb} of ${node} (${obmd.status})`);
      throw new HilBadResponseError(`obmd refused ${verb} of ${node} (${obmd.status})`);
    });
  }

  /** Whether HIL answers HTTP at all (any status): one GET without credentials and without retries. */
  override async ping(): Promise<void> {
    await timed(this.observe, 'ping', async () => {
      try {
        await this.http.get<string>('projects');
      } catch (e) {
        throw new HilUnavailableError(`HIL is unreachable (${e instanceof AxiosError ? e.code : 'network error'})`);
      }
    });
  }

  private async get(c: Credentials, path: string, resource: Resource): Promise<unknown> {
    const answer = await timed(this.observe, resource.kind, () => this.send(path, c));
    return this.check(answer, path, resource);
  }

  /** One request with the caller's credentials; a GET is tried again with backoff while HIL cannot be reached. */
  private async send(
    path: string,
    c: Credentials,
    method: 'get' | 'post' = 'get',
    data?: Record<string, unknown>,
  ): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.http.request<string>({
          method,
          url: path,
          data,
          auth: { username: c.username, password: c.password },
        });
      } catch (e) {
        const code = e instanceof AxiosError ? e.code : undefined;
        if (method === 'get' && attempt < this.retries && code && CONNECTION_ERRORS.has(code)) {
          await new Promise((r) => setTimeout(r, this.retryDelayMs * 3 ** attempt));
          continue;
        }
        throw new HilUnavailableError(`HIL is unreachable (${code ?? 'network error'})`);
      }
    }
  }

  /** HIL's answer as a value, or the BMI error it means. */
  private check(res: Answer, path: string, resource: Resource): unknown {
    const body = parseJson(res.data);
    const msg = isObject(body) && typeof body.msg === 'string' ? body.msg : undefined;
    if (res.status === 200) {
      if (body === undefined) throw new HilBadResponseError(`HIL answered ${path} with a body that is not JSON`);
      return body;
    }
    if (res.status === 401) throw new HilAuthenticationError(msg ?? 'Authentication Failed');
    if (res.status === 409) throw new HilBlockedError(msg ?? `HIL refused ${path} (409)`);
    if (res.status === 404) {
      // Only HIL's own NotFoundError says something is missing; a bare 404 page means a wrong URL.
      if (!isObject(body) || body.type !== 'NotFoundError') {
        throw new HilBadResponseError(
          `HIL has no ${path}: check [net_isolator] url (answered 404 without HIL's error)`,
        );
      }
      // HIL's database auth backend answers 404 for an unknown user: that is an authentication failure.
      if (msg && /^User .* does not exist\.?$/.test(msg)) throw new HilAuthenticationError();
      if (resource.kind === 'node') throw new HilNodeNotFoundError(resource.name);
      if (resource.kind === 'project') throw new HilProjectNotFoundError(resource.name);
    }
    throw new HilBadResponseError(`HIL answered ${res.status}${msg ? `: ${msg}` : ''}`);
  }
}

/**
 * Gives every new connection of `agent` `ms` to open, then destroys it with code ECONNTIMEOUT (a connection
 * error, so the GET is tried again). Exported for tests.
 */
export function withConnectTimeout<A extends http.Agent>(agent: A, ms: number): A {
  const open = (agent as unknown as { createConnection: (...a: unknown[]) => Socket }).createConnection.bind(agent);
  (agent as unknown as { createConnection: (...a: unknown[]) => Socket }).createConnection = (...args: unknown[]) => {
    const socket = open(...args);
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`connecting to HIL took over ${ms} ms`), { code: 'ECONNTIMEOUT' }));
    }, ms);
    const done = () => clearTimeout(timer);
    socket.once('connect', done);
    socket.once('secureConnect', done);
    socket.once('close', done);
    return socket;
  };
  return agent;
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
