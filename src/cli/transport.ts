import * as http from 'node:http';
import * as https from 'node:https';
import axios from 'axios';

export interface HttpRequest {
  method: 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Sends one request. Rejects with TransportError only when no HTTP answer came back at all. */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

export class TransportError extends Error {}

/**
 * The default transport, on axios: unlike Node's fetch it has no built-in 5-minute header timeout, and some
 * operations (flattening a large image) take longer than that. Proxy variables are ignored, as fetch does:
 * the BMI server is normally on the same host or network.
 */
export function axiosTransport(): Transport {
  const httpAgent = new http.Agent({ keepAlive: false });
  const httpsAgent = new https.Agent({ keepAlive: false });
  return async (req) => {
    try {
      const res = await axios.request<string>({
        method: req.method,
        url: req.url,
        headers: req.headers,
        data: req.body,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        proxy: false,
        httpAgent,
        httpsAgent,
      });
      const body = typeof res.data === 'string' ? res.data : res.data === undefined ? '' : String(res.data);
      return { status: res.status, contentType: String(res.headers['content-type'] ?? ''), body };
    } catch (e) {
      if (axios.isAxiosError(e) && !e.response) throw new TransportError(e.message || e.code || 'connection failed');
      throw e;
    }
  };
}

/** A transport over a fetch function (Node's own, or a stub in tests). */
export function fetchTransport(fetchFn: typeof fetch): Transport {
  return async (req) => {
    let res: Response;
    try {
      res = await fetchFn(req.url, { method: req.method, headers: req.headers, body: req.body });
    } catch (e) {
      // fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED...) in `cause`
      const cause = (e as { cause?: { message?: string; code?: string } }).cause;
      throw new TransportError(cause?.message || cause?.code || (e as Error).message);
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  };
}
