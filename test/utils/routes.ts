/**
 * Every route of the API with its method, its fields and who may call it: the table the table-driven e2e tests
 * (405s, auth, unknown project, bad input) iterate over. Paths are spelled as the original registered them
 * (reference §2.1: `/create_disk` and `/delete_disk` without a trailing slash, the rest with one).
 */
export type FieldKind = 'name' | 'node' | 'nic' | 'flag' | 'id';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
}

export interface RouteSpec {
  name: string;
  method: 'post' | 'put' | 'delete';
  path: string;
  /** needs a BMI admin (HIL admin or member of the admin project) */
  admin: boolean;
  /** one of the eight routes of the original picasso (reference §2.2) */
  original: boolean;
  /** every field, `project` included */
  fields: FieldSpec[];
}

const req = (name: string, kind: FieldKind = 'name'): FieldSpec => ({ name, kind, required: true });
const opt = (name: string, kind: FieldKind = 'name'): FieldSpec => ({ name, kind, required: false });
const PROJECT = req('project');

function route(
  name: string,
  method: RouteSpec['method'],
  fields: FieldSpec[],
  o: { admin?: boolean; original?: boolean; slash?: boolean } = {},
): RouteSpec {
  return {
    name,
    method,
    path: `/${name}${o.slash === false ? '' : '/'}`,
    admin: o.admin ?? false,
    original: o.original ?? false,
    fields: [PROJECT, ...fields],
  };
}

export const ROUTES: RouteSpec[] = [
  route('list_images', 'post', [], { original: true }),
  route('create_disk', 'put', [req('disk_name'), req('img')], { original: true, slash: false }),
  route('delete_disk', 'delete', [req('disk_name')], { original: true, slash: false }),
  route('provision', 'put', [req('node', 'node'), req('disk_name'), req('nic', 'nic')], { original: true }),
  route('deprovision', 'delete', [req('node', 'node'), req('nic', 'nic')], { original: true }),
  route('create_snapshot', 'put', [req('disk_name'), req('snap_name')], { original: true }),
  route('list_snapshots', 'post', [], { original: true }),
  route('remove_image', 'delete', [req('img')], { original: true }),
  route('list_disks', 'post', []),
  route(
    'list_all_images',
    'post',
    [
      opt('snapshots', 'flag'),
      opt('clones', 'flag'),
      opt('public', 'flag'),
      opt('filter_project'),
      opt('filter_name'),
      opt('filter_ceph'),
    ],
    { admin: true },
  ),
  route('import_image', 'put', [req('img'), opt('snap'), opt('protect', 'flag')], { admin: true }),
  route('export_image', 'put', [req('img'), req('name')], { admin: true }),
  route('copy_image', 'put', [req('img'), req('dest_project'), opt('new_name')]),
  route('move_image', 'put', [req('img'), req('dest_project'), opt('new_name')]),
  route('add_image', 'put', [req('img'), opt('id', 'id'), opt('snap', 'flag'), opt('parent'), opt('public', 'flag')], {
    admin: true,
  }),
  route('delete_image', 'delete', [req('img')], { admin: true }),
  route('mount_image', 'put', [req('img')], { admin: true }),
  route('umount_image', 'delete', [req('img')], { admin: true }),
  route('show_mounted', 'post', [], { admin: true }),
  route('node_ip', 'post', [req('node', 'node'), opt('nic', 'nic')]),
  route('list_projects', 'post', [], { admin: true }),
  route('add_project', 'put', [req('name'), opt('id', 'id')], { admin: true }),
  route('delete_project', 'delete', [req('name')], { admin: true }),
  route('list_operations', 'post', [opt('state'), opt('limit', 'id')], { admin: true }),
  route('reconcile', 'post', [opt('fix', 'flag')], { admin: true }),
];

export function routeByName(name: string): RouteSpec {
  const r = ROUTES.find((x) => x.name === name);
  if (!r) throw new Error(`no route ${name}`);
  return r;
}

/** The path without its trailing slash, or with one. */
export function otherSpelling(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
}
