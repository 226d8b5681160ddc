import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { HilSeed, HilServer, loadSeedFile, RECORDING_SEED_FILE, startHilServer } from '../../tools/hil-server';

export { RECORDING_SEED_FILE };
/** The dev set-up's seed (the fake HIL's too): admin/admin, alice in proj1 owning node-01, bob in proj2. */
export const CONFIG_SEED_FILE = path.resolve(__dirname, '../../config/hil-seed.json');
export type { HilServer };

/** The HIL-compatible server of tools/hil-server, seeded from a file (default config/hil-seed.json) or a seed. */
export function startHil(seed: string | HilSeed = CONFIG_SEED_FILE): Promise<HilServer> {
  return startHilServer({ seed: typeof seed === 'string' ? loadSeedFile(seed) : seed });
}

/** One recorded exchange (test/fixtures/hil/<name>.json, a copy of ../shared/hil-fixtures). */
export interface RecordedExchange {
  name: string;
  note: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string | null };
  response: { status: number; reason: string; headers: [string, string][]; body: string; body_is_json: boolean };
}

const FIXTURES = path.resolve(__dirname, '../fixtures/hil');

/** Every recorded exchange, in recording order (`_summary.json`). */
export function recordedExchanges(): RecordedExchange[] {
  const summary = JSON.parse(readFileSync(path.join(FIXTURES, '_summary.json'), 'utf8')) as [string, ...unknown[]][];
  return summary.map(
    ([name]) => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as RecordedExchange,
  );
}

export interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request exactly as given (no redirect following, no auth added), like Python's http.client did in the
 * recording: a body gets its Content-Length.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body: string | null = null,
): Promise<RawResponse> {
  const h: Record<string, string> = { ...headers };
  if (body !== null) h['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${urlPath}`, { method, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

export function basic(username: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` };
}
