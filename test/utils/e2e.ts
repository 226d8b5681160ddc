import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Response, Test } from 'supertest';
import type { Credentials } from '../../src/common/auth/caller';
import { ADMIN, TestApp } from './test-app';

/** The admin project that exists from the first start on ([bmi] admin_project). */
export const ADMIN_PROJECT = 'bmi_infra';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch' | 'head' | 'options';
export type Encoding = 'form' | 'json';
/** Field values; in a form body an array becomes a repeated field, `undefined` leaves the field out. */
export type Body = Record<string, unknown>;

/**
 * A request to the app: Basic auth as `user` (none when null) and `body` form-encoded (the original's way) or
 * as JSON. Form bodies are encoded here, so that odd values (arrays, NUL, unicode) go out exactly as meant.
 */
export function call(
  t: TestApp,
  method: HttpMethod,
  urlPath: string,
  user: Credentials | null,
  body?: Body,
  enc: Encoding = 'form',
): Test {
  let req = t.http()[method](urlPath);
  if (user) req = req.auth(user.username, user.password);
  if (body === undefined) return req;
  if (enc === 'json') return req.set('Content-Type', 'application/json').send(JSON.stringify(body));
  return req.type('form').send(formEncode(body));
}

export function formEncode(body: Body): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  return params.toString();
}

/** Asserts a 200 and returns the response; on failure the message shows the status and the body. */
export async function expectOk(res: Test | Promise<Response>): Promise<Response> {
  const r = await res;
  const req = describeRequest(r);
  expect({ req, status: r.status, error: r.status === 200 ? '' : r.text }).toEqual({ req, status: 200, error: '' });
  return r;
}

function describeRequest(r: Response): string {
  const req = (r as Response & { req?: { method?: string; path?: string } }).req;
  return `${req?.method ?? '?'} ${req?.path ?? '?'}`;
}

/** Asserts a status and an exact plain-text body (the original API's error format). */
export async function expectText(res: Test | Promise<Response>, status: number, text: string): Promise<Response> {
  const r = await res;
  const req = describeRequest(r);
  expect({ req, status: r.status, text: r.text }).toEqual({ req, status, text });
  expect(r.headers['content-type']).toMatch(/^text\/plain/);
  return r;
}

/** `PUT /add_project/` as the HIL admin, from the admin project. */
export async function addProject(t: TestApp, name: string): Promise<void> {
  await expectOk(call(t, 'put', '/add_project/', ADMIN, { project: ADMIN_PROJECT, name }));
}

/** `PUT /import_image/` of a raw pool image as the HIL admin. */
export async function importImage(t: TestApp, project: string, img = 'bmi_test'): Promise<void> {
  await expectText(call(t, 'put', '/import_image/', ADMIN, { project, img }), 200, 'Success');
}

/** `PUT /create_disk`; returns the target name from the JSON string body. */
export async function createDisk(
  t: TestApp,
  user: Credentials,
  project: string,
  disk_name: string,
  img = 'bmi_test',
): Promise<string> {
  const r = await expectOk(call(t, 'put', '/create_disk', user, { project, disk_name, img }));
  return JSON.parse(r.text) as string;
}

export interface ImageRow {
  id: number;
  name: string;
  project: string;
  cephName: string;
  isPublic: boolean;
  isSnapshot: boolean;
  parent: string;
}

/** Every image row (`list_all_images` as admin). */
export async function allImages(t: TestApp): Promise<ImageRow[]> {
  const r = await expectOk(call(t, 'post', '/list_all_images/', ADMIN, { project: ADMIN_PROJECT }));
  return JSON.parse(r.text) as ImageRow[];
}

/** The row of `name` in `project`, or a failed expectation. */
export async function imageRow(t: TestApp, project: string, name: string): Promise<ImageRow> {
  const rows = await allImages(t);
  const row = rows.find((r) => r.project === project && r.name === name);
  if (!row) throw new Error(`no image row ${name} in ${project}: ${JSON.stringify(rows)}`);
  return row;
}

export interface BootFile {
  path: string;
  mode: number;
  content: string;
}

/** Every file under `root` (relative path, permission bits, content), sorted; [] when root does not exist. */
export async function listFiles(root: string): Promise<BootFile[]> {
  const out: BootFile[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        const st = await fs.stat(full);
        out.push({ path: path.relative(root, full), mode: st.mode & 0o777, content: await fs.readFile(full, 'utf8') });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export interface StorageImageState {
  image: string;
  parent: { image: string; snapshot: string } | null;
  snapshots: { name: string; protected: boolean; children: string[] }[];
}

/** The whole observable state: DB (projects, image rows), the RBD pool, the iSCSI targets and the boot files. */
export interface AppState {
  projects: unknown;
  images: ImageRow[];
  storage: StorageImageState[];
  targets: { name: string; image: string }[];
  files: BootFile[];
}

export async function storageState(t: TestApp): Promise<StorageImageState[]> {
  const out: StorageImageState[] = [];
  for (const image of await t.storage.listImages()) {
    const parent = await t.storage.parentOf(image);
    const snapshots = [];
    for (const s of await t.storage.listSnapshots(image)) {
      snapshots.push({ name: s.name, protected: s.protected, children: await t.storage.children(image, s.name) });
    }
    out.push({ image, parent: parent && { image: parent.image, snapshot: parent.snapshot }, snapshots });
  }
  return out;
}

export async function captureState(t: TestApp): Promise<AppState> {
  const projects = await expectOk(call(t, 'post', '/list_projects/', ADMIN, { project: ADMIN_PROJECT }));
  return {
    projects: JSON.parse(projects.text),
    images: await allImages(t),
    storage: await storageState(t),
    targets: (await t.iscsi.listTargets()).map((x) => ({ name: x.name, image: x.image })),
    files: await listFiles(t.tftpRoot),
  };
}

/** The two boot files of §3.3, byte for byte. */
export function expectedIpxe(target: string, ip = '10.0.0.1'): string {
  return (
    '#!ipxe\n' +
    '      set keep-san 1\n' +
    '      ifconf --configurator=dhcp net2\n' +
    `      sanboot --keep iscsi:${ip}:tcp:3260:1:${target}\n` +
    '      boot'
  );
}

export function expectedPxelinux(diskName: string, node: string): string {
  return (
    'DEFAULT menu\n' +
    '  PROMPT 0\n' +
    '  MENU TITLE PXE Menu\n' +
    '  TIMEOUT 30\n' +
    `  ONTIMEOUT ${diskName}\n` +
    '\n' +
    '\n' +
    `LABEL ${diskName}\n` +
    `     MENU LABEL ${diskName}\n` +
    '     KERNEL ipxe.lkrn\n' +
    `     INITRD ${node}.ipxe`
  );
}
