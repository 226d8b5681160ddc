/**
 * Bad input on every field of every route: each value is refused with 400 and a short plain-text message
 * that names the field, before anything is touched. After each route and field, the whole state (projects,
 * image rows, the RBD pool, the iSCSI targets, the files under the TFTP root) is exactly as it was.
 *
 * Each route gets a base body that passes validation but changes nothing (it names things that do not exist
 * or already exist), so that a 400 can only come from the one field under test.
 */
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';
import {
  ADMIN_PROJECT,
  addProject,
  AppState,
  Body,
  call,
  captureState,
  createDisk,
  Encoding,
  expectOk,
  importImage,
} from '../utils/e2e';
import { FieldKind, FieldSpec, RouteSpec, ROUTES } from '../utils/routes';

const P = 'proj1';

const BASE: Record<string, Body> = {
  list_images: { project: P },
  create_disk: { project: P, disk_name: 'd1', img: 'bmi_test' }, // 409 Disk exists
  delete_disk: { project: P, disk_name: 'nosuchdisk' }, // 404
  provision: { project: P, node: 'node-01', disk_name: 'nosuchdisk', nic: 'eth0' }, // 404
  deprovision: { project: P, node: 'node-01', nic: 'eth9' }, // 404 nic
  create_snapshot: { project: P, disk_name: 'nosuchdisk', snap_name: 'snap' }, // 404
  list_snapshots: { project: P },
  remove_image: { project: P, img: 'nosuchimage' }, // 404
  list_disks: { project: P },
  list_all_images: {
    project: ADMIN_PROJECT,
    snapshots: 'true',
    clones: 'off',
    public: '1',
    filter_project: P,
    filter_name: 'd1',
    filter_ceph: '5img2',
  },
  import_image: { project: P, img: 'bmi_test', snap: 'snap', protect: 'yes' }, // 409 exists
  export_image: { project: P, img: 'bmi_test', name: 'bmi_test' }, // 409 raw image exists
  copy_image: { project: P, img: 'bmi_test', dest_project: P, new_name: 'd1' }, // 409 exists
  move_image: { project: P, img: 'bmi_test', dest_project: P, new_name: 'd1' }, // 409 exists
  add_image: { project: P, img: 'd1', id: '77', snap: 'true', parent: 'bmi_test', public: 'false' }, // 409 exists
  delete_image: { project: P, img: 'nosuchimage' }, // 404
  mount_image: { project: P, img: 'nosuchimage' }, // 404
  umount_image: { project: P, img: 'nosuchimage' }, // 404
  show_mounted: { project: P },
  node_ip: { project: P, node: 'node-01', nic: 'eth0' }, // 404 no lease
  list_projects: { project: ADMIN_PROJECT },
  add_project: { project: ADMIN_PROJECT, name: 'proj1', id: '77' }, // 409 exists
  delete_project: { project: ADMIN_PROJECT, name: 'nosuchproject' }, // 404
  list_operations: { project: ADMIN_PROJECT, state: 'failed', limit: '5' },
  reconcile: { project: ADMIN_PROJECT, fix: 'false' },
};

type Bad = [label: string, value: unknown];

const HUGE = 'a'.repeat(10_000);

/** Refused in every name, node and NIC field. */
const BAD_TEXT: Bad[] = [
  ['10 000 characters', HUGE],
  ['path traversal', '../etc/passwd'],
  ['dot-dot', '..'],
  ['slash', 'a/b'],
  ['absolute path', '/etc/passwd'],
  ['backslash', 'a\\b'],
  ['shell command', ';rm -rf /'],
  ['command substitution', '$(id)'],
  ['backticks', '`id`'],
  ['pipe', 'a|b'],
  ['ampersand', 'a&b'],
  ['glob', 'a*'],
  ['quote', "a'b"],
  ['space inside', 'a b'],
  ['leading space', ' a'],
  ['trailing space', 'a '],
  ['tab', 'a\tb'],
  ['newline', 'a\nb'],
  ['trailing newline', 'a\n'],
  ['NUL byte', 'a\u0000b'],
  ['leading dash', '-rf'],
  ['leading dot', '.hidden'],
  ['unicode letter', 'imäge'],
  ['non-Latin script', 'образ'],
  ['emoji', 'disk💥'],
  ['repeated field', ['a', 'b']],
];
const BAD_NAME: Bad[] = [...BAD_TEXT, ['65 characters', 'a'.repeat(65)], ['MAC address', '52:54:00:12:34:56']];
const BAD_NIC: Bad[] = [...BAD_TEXT, ['33 characters', 'a'.repeat(33)], ['leading colon', ':eth0']];
const BAD_FLAG: Bad[] = [
  ['word', 'maybe'],
  ['number 2', '2'],
  ['leading space', ' true'],
  ['command substitution', '$(id)'],
  ['10 000 characters', 'true'.repeat(2_500)],
  ['unicode', 'ja✓'],
  ['repeated field', ['true', 'false']],
];
const BAD_ID: Bad[] = [
  ['zero', '0'],
  ['negative', '-1'],
  ['fraction', '1.5'],
  ['exponent', '1e3'],
  ['hex', '0x10'],
  ['leading plus', '+1'],
  ['over 2^31-1', '2147483648'],
  ['10 000 digits', '9'.repeat(10_000)],
  ['word', 'abc'],
  ['shell command', '1;rm -rf /'],
  ['command substitution', '$(id)'],
  ['space inside', '1 2'],
  ['repeated field', ['1', '2']],
];

/** Values of the wrong JSON type. */
const BAD_JSON: Record<FieldKind, Bad[]> = {
  name: [
    ['number', 123],
    ['boolean', true],
    ['empty array', []],
    ['array', ['bmi_test']],
    ['object', { name: 'bmi_test' }],
  ],
  node: [
    ['number', 1],
    ['array', ['node-01']],
    ['object', {}],
  ],
  nic: [
    ['number', 0],
    ['array', ['eth0']],
    ['object', { label: 'eth0' }],
  ],
  flag: [
    ['number', 1],
    ['array', [true]],
    ['object', {}],
    ['string', 'maybe'],
  ],
  id: [
    ['fraction', 1.5],
    ['negative', -1],
    ['zero', 0],
    ['too large', 2 ** 31],
    ['boolean', true],
    ['array', [1]],
    ['object', {}],
    ['word', 'abc'],
  ],
};

function badValues(field: FieldSpec): { form: Bad[]; json: Bad[] } {
  const required: Bad[] = field.required
    ? [
        ['empty', ''],
        ['missing', undefined],
      ]
    : [];
  const form =
    field.kind === 'flag' ? BAD_FLAG : field.kind === 'id' ? BAD_ID : field.kind === 'nic' ? BAD_NIC : BAD_NAME;
  const json = [...BAD_JSON[field.kind], ...(field.required ? ([['null', null]] as Bad[]) : [])];
  return { form: [...required, ...form], json };
}

function userFor(route: RouteSpec) {
  return route.admin ? ADMIN : ALICE;
}

let t: TestApp;
let before: AppState;

beforeAll(async () => {
  t = await startTestApp();
  // some 2 000 requests: listen once instead of once per request
  await t.app.listen(0, '127.0.0.1');
  await addProject(t, P);
  await addProject(t, 'proj2');
  await importImage(t, P);
  await createDisk(t, ALICE, P, 'd1');
  await expectOk(call(t, 'put', '/provision/', ALICE, { project: P, node: 'node-01', disk_name: 'd1', nic: 'eth1' }));
  before = await captureState(t);
  expect(before.files).toHaveLength(2);
  expect(before.targets).toHaveLength(1);
});
afterAll(() => t.close());

describe('base bodies (the controls)', () => {
  it('every route has a base body that covers all of its fields', () => {
    for (const route of ROUTES) {
      expect(Object.keys(BASE[route.name] ?? {}).sort()).toEqual(route.fields.map((f) => f.name).sort());
    }
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))(
    '%s: the base body passes validation and changes nothing',
    async (name, route) => {
      for (const enc of ['form', 'json'] as Encoding[]) {
        const r = await call(t, route.method, route.path, userFor(route), BASE[name], enc);
        expect({ enc, status: r.status }).toEqual({ enc, status: expect.any(Number) });
        expect([200, 404, 409]).toContain(r.status);
      }
      expect(await captureState(t)).toEqual(before);
    },
  );
});

const CASES = ROUTES.flatMap((route) => route.fields.map((field) => [route.name, field.name, route, field] as const));

describe('every field of every route', () => {
  it.each(CASES)('%s, field %s: 400 naming the field, nothing written', async (_name, fieldName, route, field) => {
    const { form, json } = badValues(field);
    const fieldWord = new RegExp(`(^|[^A-Za-z0-9_])${fieldName}([^A-Za-z0-9_]|$)`);
    const tries: [Encoding, Bad][] = [
      ...form.map((b) => ['form', b] as [Encoding, Bad]),
      ...json.map((b) => ['json', b] as [Encoding, Bad]),
    ];
    for (const [enc, [label, value]] of tries) {
      const body = { ...BASE[route.name], [fieldName]: value };
      if (value === undefined) delete body[fieldName];
      const r = await call(t, route.method, route.path, userFor(route), body, enc);
      const seen = { enc, label, status: r.status, type: r.headers['content-type'] as string };
      expect(seen).toEqual({ enc, label, status: 400, type: expect.stringMatching(/^text\/plain/) });
      // a clear, short message about this field (never an echo of the 10 000 characters)
      expect({ enc, label, text: r.text, names: fieldWord.test(r.text) }).toEqual({
        enc,
        label,
        text: r.text,
        names: true,
      });
      expect(r.text.length).toBeLessThan(300);
    }
    expect(await captureState(t)).toEqual(before);
  });
});

describe('bodies', () => {
  it('a form body over 64 KB is refused with 413, nothing written', async () => {
    const r = await call(t, 'put', '/create_disk', ALICE, {
      project: P,
      disk_name: 'big',
      img: 'bmi_test',
      pad: 'x'.repeat(70_000),
    });
    expect({ status: r.status, text: r.text }).toEqual({ status: 413, text: 'request entity too large' });
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(await captureState(t)).toEqual(before);
  });

  it('a JSON body over 64 KB is refused with 413, nothing written', async () => {
    const r = await call(
      t,
      'put',
      '/import_image/',
      ADMIN,
      { project: P, img: 'centos7', pad: 'x'.repeat(70_000) },
      'json',
    );
    expect({ status: r.status, text: r.text }).toEqual({ status: 413, text: 'request entity too large' });
    expect(await captureState(t)).toEqual(before);
  });

  it('a body just under the limit is parsed, and its oversized field is a 400 naming it', async () => {
    const r = await call(t, 'put', '/create_disk', ALICE, {
      project: P,
      disk_name: 'x'.repeat(60_000),
      img: 'bmi_test',
    });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^disk_name /);
    expect(await captureState(t)).toEqual(before);
  });

  it('malformed JSON is a plain-text 400, nothing written', async () => {
    const r = await t
      .http()
      .put('/create_disk')
      .auth('alice', 'alicepass')
      .set('Content-Type', 'application/json')
      .send('{"project": "proj1",');
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/JSON/);
    expect(await captureState(t)).toEqual(before);
  });

  it('a JSON body nested thousands of levels deep (under the size limit) is a plain-text 400, nothing written', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await t
      .http()
      .put('/create_disk')
      .auth('alice', 'alicepass')
      .set('Content-Type', 'application/json')
      .send(`{"project": "proj1", "disk_name": "d9", "img": "bmi_test", "x": ${deep}}`);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.text).toBe('the request body is nested deeper than 32 levels');
    expect(await captureState(t)).toEqual(before);
  });

  it('a JSON body that is not an object (an array) is a 400 about the missing fields', async () => {
    const r = await t
      .http()
      .put('/create_disk')
      .auth('alice', 'alicepass')
      .set('Content-Type', 'application/json')
      .send('["proj1"]');
    expect(r.status).toBe(400);
    expect(r.text).toContain('project');
    expect(await captureState(t)).toEqual(before);
  });

  it('fields in the query string are not read: a request with an empty body misses its fields', async () => {
    const r = await t.http().put('/create_disk?project=proj1&disk_name=q&img=bmi_test').auth('alice', 'alicepass');
    expect(r.status).toBe(400);
    expect(r.text).toContain('missing field project');
    expect(await captureState(t)).toEqual(before);
  });

  it('unknown extra fields are ignored, not stored', async () => {
    const r = await call(t, 'post', '/list_images/', ALICE, { project: P, __proto__x: 'a', isAdmin: 'true', id: '1' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('["bmi_test"]');
    expect(await captureState(t)).toEqual(before);
  });
});
