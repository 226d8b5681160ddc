/**
 * The HIL-compatible server (tools/hil-server) answers every exchange recorded from a real HIL
 * (test/fixtures/hil, a copy of ../shared/hil-fixtures) exactly as HIL did. It starts from the recording's
 * starting point (tools/hil-server/seeds/recording.json: the admin user, and the token the fake obmd handed
 * out) and the exchanges are replayed in recording order on that one server: the setup requests build the
 * state the later ones read.
 */
import { HilServer, rawRequest, RECORDING_SEED_FILE, recordedExchanges, startHil } from '../utils/hil-server';

const EXCHANGES = recordedExchanges();

/** The recorded response header `name`, if any. */
const header = (x: (typeof EXCHANGES)[number], name: string) =>
  x.response.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

let hil: HilServer;

beforeAll(async () => {
  hil = await startHil(RECORDING_SEED_FILE);
});
afterAll(() => hil.close());

it('has all the recorded exchanges, setup first', () => {
  expect(EXCHANGES).toHaveLength(55);
  expect(EXCHANGES[0].name).toBe('setup-01-project-create-proj1');
  expect(EXCHANGES.filter((x) => x.response.body.startsWith('<!doctype html>')).map((x) => x.name)).toEqual([
    'free_nodes-legacy-route-used-by-bmi',
    'power_status-node-01-as-proj1-user',
    'power_status-node-01-as-admin',
  ]);
});

it.each(EXCHANGES.map((x, i) => [`${String(i + 1).padStart(2, '0')} ${x.name}`, x] as const))(
  '%s',
  async (_title, x) => {
    const { method, path, headers, body } = x.request;
    const res = await rawRequest(hil.url, method, path, headers, body);
    expect(`${res.status} ${res.reason}`).toBe(`${x.response.status} ${x.response.reason}`);
    // JSON bodies byte for byte (json.dumps spacing, key order, escapes), empty bodies empty. Werkzeug's HTML
    // pages are framework details that only the status had to match; ours are Werkzeug 2.2.2's, so they match too.
    expect(res.body).toBe(x.response.body);
    if (x.response.body_is_json) expect(JSON.parse(res.body)).toEqual(JSON.parse(x.response.body));
    expect(res.headers['content-type']).toBe(header(x, 'Content-Type'));
    expect(res.headers['content-length']).toBe(header(x, 'Content-Length'));
    expect(res.headers.location).toBe(header(x, 'Location'));
    if (x.response.status === 307) {
      expect(res.headers.location).toBe(
        'http://127.0.0.1:5101/node/node-01/power_status?token=020a09cb14ae964a247078f9ca83cd7c',
      );
    }
  },
);
