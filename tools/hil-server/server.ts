import { createServer, IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { AddressInfo } from 'node:net';
import { Py, pyDumps, pyLoads, pySorted } from './pyjson';
import { canAccess, NO_PROJECT_ACCESS } from '../../src/modules/hil/hil-directory';
import { HilSeed, HilState, MOCK_SWITCH, Node, User } from './state';

/**
 * A HIL-compatible server (CCI-MOC/hil master, `database` auth backend, mock switches), answering what the
 * recording in ../shared/hil-fixtures shows, byte for byte (../shared/docs/hil-contract.md). Each request goes
 * through HIL's steps in HIL's order:
 *   1. route match (Flask/Werkzeug): unknown path -> 404 page, known path with another method -> 405 page;
 *   2. argument validation (hil/rest.py): a GET with a body or a query string, a body that is not JSON, a
 *      missing/extra/mistyped field -> 400 ValidationError, all before authentication;
 *   3. authentication (Basic): unknown user -> 404, wrong password / none / not Basic -> 401;
 *   4. the handler, with HIL's own order of lookups and checks.
 * Every HIL response is `text/html; charset=utf-8`, JSON bodies included, like HIL's.
 * Unless the seed says `obmd.serve: false`, it also plays obmd (the target of power_status's 307) on `/node/<n>/...`.
 */

export interface HilServerOptions {
  seed: HilSeed;
  /** 0 (default): any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** one line per request (method, path without query, status, user); never a password */
  log?: (line: string) => void;
}

export interface HilServer {
  /** e.g. http://127.0.0.1:7000 (no /v0) */
  url: string;
  state: HilState;
  close: () => Promise<void>;
}

export async function startHilServer(opts: HilServerOptions): Promise<HilServer> {
  const state = HilState.fromSeed(opts.seed);
  const host = opts.host ?? '127.0.0.1';
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let reply: Reply;
      let user = '-';
      try {
        reply = handle(state, url, req, Buffer.concat(chunks), (u) => (user = u));
      } catch (e) {
        reply = htmlPage(500, 'Internal Server Error', INTERNAL_ERROR);
        opts.log?.(`internal error: ${e instanceof Error ? e.message : String(e)}`);
      }
      opts.log?.(`${req.method} ${(req.url ?? '').split('?')[0]} -> ${reply.status} (${user})`);
      send(res, reply);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------- replies

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const HTML = 'text/html; charset=utf-8';

function send(res: ServerResponse, r: Reply): void {
  const body = Buffer.from(r.body, 'utf8');
  // Werkzeug's reason phrases are upper-case ("404 NOT FOUND")
  res.writeHead(r.status, (STATUS_CODES[r.status] ?? '').toUpperCase(), {
    'Content-Type': HTML,
    'Content-Length': String(body.length),
    ...r.headers,
    Connection: 'close',
  });
  res.end(body);
}

/** HIL's APIError: answered as `{"type": ..., "msg": ...}` with the error's status. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    msg: string,
  ) {
    super(msg);
  }
}
const notFound = (msg: string) => new ApiError('NotFoundError', 404, msg);
const duplicate = (msg: string) => new ApiError('DuplicateError', 409, msg);
const blocked = (msg: string) => new ApiError('BlockedError', 409, msg);
const badArgument = (msg: string) => new ApiError('BadArgumentError', 400, msg);
const validation = (msg = 'Request arguments are not valid for this request') =>
  new ApiError('ValidationError', 400, msg);
const authorization = (msg: string) => new ApiError('AuthorizationError', 401, msg);

const AUTH_FAILED = 'Authentication failed. Authentication is required to use this service.';
const ADMIN_ONLY = 'This operation is administrator-only.';

const json = (value: Py, sortKeys = false): Reply => ({ status: 200, body: pyDumps(value, { sortKeys }) });
const EMPTY: Reply = { status: 200, body: '' };

/** Werkzeug 2.2's HTML error page. */
function htmlPage(status: number, name: string, description: string, headers?: Record<string, string>): Reply {
  const body = `<!doctype html>\n<html lang=en>\n<title>${status} ${name}</title>\n<h1>${name}</h1>\n<p>${description}</p>\n`;
  return { status, body, headers };
}
const NOT_FOUND_PAGE = () =>
  htmlPage(
    404,
    'Not Found',
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  );
const INTERNAL_ERROR =
  'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.';

/** Werkzeug 2.2's redirect(location, 307). */
function redirect(location: string): Reply {
  const e = escapeHtml(location);
  const body =
    '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
    `<p>You should be redirected automatically to the target URL: <a href="${e}">${e}</a>. If not, click the link.\n`;
  return { status: 307, body, headers: { Location: location } };
}

function escapeHtml(s: string): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };
  return s.replace(/[&<>"']/g, (c) => map[c]);
}

// ----------------------------------------------------------------------------------------------- routes

type Check = 'str' | 'bool' | 'dict' | 'obmd' | 'any';
type Args = Map<string, Py>;

interface Ctx {
  state: HilState;
  /** the authenticated user (HIL requires authentication on every call) */
  user: User;
  args: Args;
  /** this server's base URL */
  self: string;
}

interface Route {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  /** body fields (path parameters are strings); `?` marks an optional one; `*` allows any other field */
  fields: Record<string, Check>;
  run: (c: Ctx) => Reply;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/projects', fields: {}, run: listProjects },
  { method: 'PUT', path: '/project/<project>', fields: {}, run: projectCreate },
  { method: 'POST', path: '/project/<project>/connect_node', fields: { node: 'str' }, run: projectConnectNode },
  { method: 'POST', path: '/project/<project>/detach_node', fields: { node: 'str' }, run: projectDetachNode },
  { method: 'GET', path: '/project/<project>/nodes', fields: {}, run: listProjectNodes },
  { method: 'GET', path: '/nodes/<is_free>', fields: {}, run: listNodes },
  { method: 'PUT', path: '/node/<node>', fields: { obmd: 'obmd', 'metadata?': 'dict' }, run: nodeRegister },
  { method: 'GET', path: '/node/<nodename>', fields: {}, run: showNode },
  { method: 'PUT', path: '/node/<node>/nic/<nic>', fields: { macaddr: 'str' }, run: nodeRegisterNic },
  { method: 'PUT', path: '/node/<node>/obm', fields: { enabled: 'bool' }, run: nodeEnableDisableObm },
  { method: 'GET', path: '/node/<node>/power_status', fields: {}, run: nodePower('power_status') },
  { method: 'POST', path: '/node/<node>/power_on', fields: {}, run: nodePower('power_on') },
  { method: 'POST', path: '/node/<node>/power_off', fields: {}, run: nodePower('power_off') },
  { method: 'POST', path: '/node/<node>/power_cycle', fields: { 'force?': 'bool' }, run: nodePower('power_cycle') },
  { method: 'PUT', path: '/switch/<switch>', fields: { type: 'str', '*': 'any' }, run: switchRegister },
  { method: 'PUT', path: '/switch/<switch>/port/<path:port>', fields: {}, run: switchRegisterPort },
  {
    method: 'POST',
    path: '/switch/<switch>/port/<path:port>/connect_nic',
    fields: { node: 'str', nic: 'str' },
    run: portConnectNic,
  },
  { method: 'GET', path: '/auth/basic/users', fields: {}, run: listUsers },
  {
    method: 'PUT',
    path: '/auth/basic/user/<user>',
    fields: { password: 'str', 'is_admin?': 'bool' },
    run: userCreate,
  },
  { method: 'POST', path: '/auth/basic/user/<user>/add_project', fields: { project: 'str' }, run: userAddProject },
];

/** Werkzeug's converters: `<x>` is one segment, `<path:x>` one or more. */
const COMPILED = ROUTES.map((r) => {
  const params: string[] = [];
  const source = r.path.replace(/<(?:(path):)?(\w+)>/g, (_m, path: string | undefined, name: string) => {
    params.push(name);
    return path ? '([^/].*?)' : '([^/]+)';
  });
  return { ...r, params, regex: new RegExp(`^/v0${source}$`) };
});

function handle(state: HilState, self: string, req: IncomingMessage, body: Buffer, who: (u: string) => void): Reply {
  const method = req.method ?? 'GET';
  const [rawPath, query = ''] = (req.url ?? '/').split(/\?(.*)/s);
  const path = percentDecode(rawPath);
  if (state.obmd.serve && /^\/node\//.test(path)) return fakeObmd(state, method, path, query, body);

  const matches = COMPILED.map((r) => ({ r, m: r.regex.exec(path) })).filter((x) => x.m !== null);
  if (matches.length === 0) return NOT_FOUND_PAGE();
  const allowed = new Set<string>(matches.map((x) => x.r.method));
  if (allowed.has('GET')) allowed.add('HEAD');
  allowed.add('OPTIONS');
  const allow = pySorted(allowed).join(', ');
  if (method === 'OPTIONS') return { status: 200, body: '', headers: { Allow: allow } };
  const hit = matches.find((x) => x.r.method === (method === 'HEAD' ? 'GET' : method));
  if (!hit) {
    return htmlPage(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.', { Allow: allow });
  }
  const { r, m } = hit as { r: (typeof COMPILED)[number]; m: RegExpExecArray };
  const pathArgs = new Map<string, string>(r.params.map((p, i) => [p, m[i + 1]]));

  try {
    const args = validate(method, req.headers['content-type'], body, query, pathArgs, r.fields);
    const user = authenticate(state, req.headers.authorization);
    who(user.name);
    return r.run({ state, user, args, self });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { status: e.status, body: pyDumps({ type: e.type, msg: e.message }) };
  }
}

/** PATH_INFO as WSGI gives it to Flask: percent-decoded, then read as UTF-8. */
function percentDecode(p: string): string {
  const bytes = Buffer.from(
    p.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return bytes.toString('utf8');
}

/** hil/rest.py `_do_validation`, then the route's Schema. */
function validate(
  method: string,
  contentType: string | undefined,
  raw: Buffer,
  query: string,
  pathArgs: Map<string, string>,
  fields: Record<string, Check>,
): Args {
  // Werkzeug hands form bodies to request.form: request.data is empty for them
  const isForm = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(contentType ?? '');
  const data = isForm ? Buffer.alloc(0) : raw;
  let args = new Map<string, Py>();
  if (method === 'GET') {
    if (data.length > 0) throw validation('GET request made with a non-empty request body');
    for (const part of query.split('&').filter((x) => x !== '')) {
      const [k, v = ''] = part.split(/=(.*)/s).map((x) => decodeForm(x));
      if (v === '') throw validation('Empty parameter specified');
      if (!args.has(k)) args.set(k, v);
    }
  } else if (data.length > 0) {
    let body: Py;
    try {
      body = pyLoads(new TextDecoder('utf-8', { fatal: true }).decode(data));
    } catch {
      throw validation('The request body is not valid JSON');
    }
    // HIL merges the path arguments into the decoded body: anything but an object fails there (a TypeError)
    if (!(body instanceof Map)) {
      if (pathArgs.size > 0) throw new Error('request body is not a JSON object');
      throw validation();
    }
    args = body;
  }
  for (const [k, v] of pathArgs) {
    if (args.has(k)) throw validation();
    args.set(k, v);
  }
  const known = new Set([...pathArgs.keys()]);
  for (const [spec, check] of Object.entries(fields)) {
    if (spec === '*') continue;
    const name = spec.replace(/\?$/, '');
    known.add(name);
    if (!args.has(name)) {
      if (spec.endsWith('?')) continue;
      throw validation();
    }
    if (!checks(args.get(name) as Py, check)) throw validation();
  }
  for (const [k, v] of args) {
    if (!known.has(k) && !(fields['*'] && checks(v, fields['*']))) throw validation();
  }
  return args;
}

function checks(v: Py, check: Check): boolean {
  switch (check) {
    case 'str':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'dict':
      return v instanceof Map;
    case 'any':
      return true;
    case 'obmd':
      return (
        v instanceof Map && v.size === 2 && typeof v.get('uri') === 'string' && typeof v.get('admin_token') === 'string'
      );
  }
}

function decodeForm(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The `database` auth backend behind Werkzeug's Basic parser. */
function authenticate(state: HilState, header: string | undefined): User {
  const creds = parseBasic(header);
  if (!creds) throw authorization(AUTH_FAILED);
  const user = state.users.get(creds.username);
  if (!user) throw notFound(`User ${creds.username} does not exist.`);
  if (user.password !== creds.password) throw authorization(AUTH_FAILED);
  return user;
}

function parseBasic(header: string | undefined): { username: string; password: string } | null {
  const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(header ?? '');
  if (!m || m[1].toLowerCase() !== 'basic') return null;
  const raw = pyB64decode(m[2]);
  const colon = raw ? raw.indexOf(':') : -1;
  if (!raw || colon < 0) return null;
  try {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    return { username: utf8.decode(raw.subarray(0, colon)), password: utf8.decode(raw.subarray(colon + 1)) };
  } catch {
    return null;
  }
}

/** Python's base64.b64decode (not validating): other characters skipped, stops once padding is complete. */
function pyB64decode(s: string): Buffer | null {
  let data = '';
  let quad = 0;
  let pads = 0;
  for (const c of s) {
    if (c === '=') {
      if (quad >= 2 && quad + ++pads >= 4) return Buffer.from(data, 'base64');
      continue;
    }
    if (!/[A-Za-z0-9+/]/.test(c)) continue;
    data += c;
    pads = 0;
    quad = (quad + 1) & 3;
  }
  return quad === 0 ? Buffer.from(data, 'base64') : null;
}

// --------------------------------------------------------------------------------------------- handlers

const str = (c: Ctx, name: string) => c.args.get(name) as string;

function requireAdmin(c: Ctx): void {
  if (!c.user.isAdmin) throw authorization(ADMIN_ONLY);
}

function requireProjectAccess(c: Ctx, project: string | null): void {
  if (!canAccess(c.user, project)) throw authorization(NO_PROJECT_ACCESS);
}

function mustFindProject(c: Ctx, name: string): string {
  if (!c.state.projects.has(name)) throw notFound(`Project ${name} does not exist.`);
  return name;
}

function mustFindNode(c: Ctx, name: string): Node {
  const node = c.state.nodes.get(name);
  if (!node) throw notFound(`Node ${name} does not exist.`);
  return node;
}

function listProjects(c: Ctx): Reply {
  requireAdmin(c);
  return json(pySorted(c.state.projects));
}

function projectCreate(c: Ctx): Reply {
  requireAdmin(c);
  const project = str(c, 'project');
  if (c.state.projects.has(project)) throw duplicate(`Project ${project} already exists.`);
  c.state.projects.add(project);
  return EMPTY;
}

function projectConnectNode(c: Ctx): Reply {
  const project = mustFindProject(c, str(c, 'project'));
  requireProjectAccess(c, project);
  const node = mustFindNode(c, str(c, 'node'));
  if (node.project !== null) throw blocked('Node is already owned by a project.');
  node.project = project;
  return EMPTY;
}

function projectDetachNode(c: Ctx): Reply {
  const project = mustFindProject(c, str(c, 'project'));
  requireProjectAccess(c, project);
  const node = mustFindNode(c, str(c, 'node'));
  if (node.project !== project) throw notFound('Node not in project');
  if (node.obmToken !== null) throw blocked("Node's obm is enabled.");
  node.project = null;
  return EMPTY;
}

function listProjectNodes(c: Ctx): Reply {
  const project = mustFindProject(c, str(c, 'project'));
  requireProjectAccess(c, project);
  return json([...c.state.nodes.values()].filter((n) => n.project === project).map((n) => n.name));
}

function listNodes(c: Ctx): Reply {
  const free = str(c, 'is_free') === 'free';
  return json(pySorted([...c.state.nodes.values()].filter((n) => !free || n.project === null).map((n) => n.name)));
}

function nodeRegister(c: Ctx): Reply {
  requireAdmin(c);
  const name = str(c, 'node');
  if (c.state.nodes.has(name)) throw duplicate(`Node ${name} already exists.`);
  const obmd = c.args.get('obmd') as Map<string, string>;
  const metadata = (c.args.get('metadata') as Map<string, Py> | undefined) ?? new Map<string, Py>();
  c.state.nodes.set(name, {
    name,
    project: null,
    nics: [],
    metadata: new Map([...metadata].map(([k, v]) => [k, pyDumps(v)])),
    obmdUri: obmd.get('uri') as string,
    obmdAdminToken: obmd.get('admin_token') as string,
    obmToken: null,
  });
  return EMPTY;
}

function showNode(c: Ctx): Reply {
  const node = mustFindNode(c, str(c, 'nodename'));
  if (node.project !== null) requireProjectAccess(c, node.project);
  const nics = node.nics.map((n) => ({
    label: n.label,
    macaddr: n.macaddr,
    networks: {},
    // port and switch are for admins only
    ...(c.user.isAdmin ? { port: n.port?.port ?? null, switch: n.port?.switch ?? null } : {}),
  }));
  return json({ name: node.name, project: node.project, nics, metadata: node.metadata }, true);
}

function nodeRegisterNic(c: Ctx): Reply {
  requireAdmin(c);
  const node = mustFindNode(c, str(c, 'node'));
  const label = str(c, 'nic');
  if (node.nics.some((n) => n.label === label)) throw duplicate(`Nic ${label} on Node ${node.name} already exists`);
  node.nics.push({ label, macaddr: str(c, 'macaddr'), port: null });
  return EMPTY;
}

function nodeEnableDisableObm(c: Ctx): Reply {
  const node = mustFindNode(c, str(c, 'node'));
  requireProjectAccess(c, node.project);
  if (c.args.get('enabled') === true) c.state.enableObm(node);
  else node.obmToken = null;
  return EMPTY;
}

/** HIL makes no OBM call itself: it checks the caller and the node's OBM, then sends the client to obmd. */
function nodePower(verb: string): (c: Ctx) => Reply {
  return (c) => {
    const node = mustFindNode(c, str(c, 'node'));
    requireProjectAccess(c, node.project);
    if (node.obmToken === null) throw blocked('OBM is not enabled');
    const uri = node.obmdUri ?? `${c.self}/node/${encodeURIComponent(node.name)}`;
    return redirect(`${uri}/${verb}?token=${node.obmToken}`);
  };
}

function switchRegister(c: Ctx): Reply {
  requireAdmin(c);
  const name = str(c, 'switch');
  if (c.state.switches.has(name)) throw duplicate(`Switch ${name} already exists.`);
  const type = str(c, 'type');
  if (type !== MOCK_SWITCH) throw badArgument(`${pyRepr(type)} is not a valid switch type.`);
  // the mock switch's own schema: exactly hostname, username and password, strings (the password is not kept)
  const extra = [...c.args].filter(([k]) => k !== 'switch' && k !== 'type');
  const names = extra.map(([k]) => k).sort();
  if (names.join() !== 'hostname,password,username' || extra.some(([, v]) => typeof v !== 'string')) {
    throw validation();
  }
  c.state.switches.set(name, { name, type, ports: new Map() });
  return EMPTY;
}

/** The switch's model class, as HIL names it in messages. */
const switchClass = (type: string) => (type === MOCK_SWITCH ? 'MockSwitch' : 'Switch');

function mustFindPort(c: Ctx) {
  const name = str(c, 'switch');
  const sw = c.state.switches.get(name);
  if (!sw) throw notFound(`Switch ${name} does not exist.`);
  const port = str(c, 'port');
  if (!sw.ports.has(port)) throw notFound(`Port ${port} on ${switchClass(sw.type)} ${name} does not exist.`);
  return { sw, port };
}

function switchRegisterPort(c: Ctx): Reply {
  requireAdmin(c);
  const name = str(c, 'switch');
  const sw = c.state.switches.get(name);
  if (!sw) throw notFound(`Switch ${name} does not exist.`);
  const port = str(c, 'port');
  if (sw.ports.has(port)) throw duplicate(`Port ${port} on ${switchClass(sw.type)} ${name} already exists`);
  sw.ports.set(port, null);
  return EMPTY;
}

function portConnectNic(c: Ctx): Reply {
  requireAdmin(c);
  const { sw, port } = mustFindPort(c);
  const node = mustFindNode(c, str(c, 'node'));
  const nic = node.nics.find((n) => n.label === str(c, 'nic'));
  if (!nic) throw notFound(`Nic ${str(c, 'nic')} on Node ${node.name} does not exist.`);
  if (nic.port !== null) throw duplicate(nic.label);
  if (sw.ports.get(port)) throw duplicate(port);
  nic.port = { switch: sw.name, port };
  sw.ports.set(port, { node: node.name, nic: nic.label });
  return EMPTY;
}

function listUsers(c: Ctx): Reply {
  requireAdmin(c);
  const users = new Map(
    [...c.state.users.values()].map((u) => [u.name, { is_admin: u.isAdmin, projects: u.projects }]),
  );
  return json(users, true);
}

function userCreate(c: Ctx): Reply {
  requireAdmin(c);
  const name = str(c, 'user');
  if (c.state.users.has(name)) throw duplicate(`User ${name} already exists.`);
  const isAdmin = c.args.get('is_admin') === true;
  c.state.users.set(name, { name, password: str(c, 'password'), isAdmin, projects: [] });
  return EMPTY;
}

function userAddProject(c: Ctx): Reply {
  requireAdmin(c);
  const name = str(c, 'user');
  const user = c.state.users.get(name);
  if (!user) throw notFound(`User ${name} does not exist.`);
  const project = mustFindProject(c, str(c, 'project'));
  if (user.projects.includes(project)) throw duplicate(`User ${name} is already in project ${project}`);
  user.projects.push(project);
  return EMPTY;
}

/** Python's repr() of a str. */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(new RegExp(q, 'g'), `\\${q}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    // eslint-disable-next-line no-control-regex -- Python's repr escapes the control characters
    .replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return q + body + q;
}

// -------------------------------------------------------------------------------------------- fake obmd

/**
 * The fake obmd the recording redirected to (fake_obmd.py, a stand-in for CCI-MOC/obmd, not HIL):
 * `GET /node/<n>/power_status?token=<t>` with the token HIL got when the node's OBM was enabled answers
 * `{"power_status":"off"}` (Flask jsonify: compact, a newline, application/json); a wrong token is a 401.
 * `POST /node/<n>/power_on|power_off|power_cycle?token=<t>` switches the node (200, empty), as obmd does.
 */
function isForceBody(body: Buffer): boolean {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && typeof (v as { force?: unknown }).force === 'boolean';
  } catch {
    return false;
  }
}

function fakeObmd(state: HilState, method: string, path: string, query: string, sent: Buffer): Reply {
  const m = /^\/node\/([^/]+)\/(power_status|power_on|power_off|power_cycle)$/.exec(path);
  if (!m) return NOT_FOUND_PAGE();
  const want = m[2] === 'power_status' ? ['GET', 'HEAD'] : ['POST'];
  if (!want.includes(method)) {
    return htmlPage(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.', {
      Allow: `${want.join(', ')}, OPTIONS`,
    });
  }
  const node = state.nodes.get(m[1]);
  const token = new URLSearchParams(query).get('token');
  if (!node || node.obmToken === null || token !== node.obmToken) {
    return { status: 401, body: '', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  }
  if (m[2] === 'power_cycle' && !isForceBody(sent)) {
    // obmd decodes a power cycle's body as {"force": bool}
    return { status: 400, body: 'bad request body\n', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  }
  if (m[2] !== 'power_status') {
    state.obmd.power.set(node.name, m[2] === 'power_off' ? 'off' : 'on');
    return { status: 200, body: '', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  }
  const body = `${JSON.stringify({ power_status: state.obmd.power.get(node.name) ?? 'off' })}\n`;
  return { status: 200, body, headers: { 'Content-Type': 'application/json' } };
}
