import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { isV1Path } from '../http/v1-face';

/** The tags of the document, /v1's first, each with what it covers. */
const TAGS: [string, string][] = [
  ['projects', 'BMI projects, each a HIL project: listed, added and deleted by admins, read by their members.'],
  [
    'images',
    'Golden images (imported from the Ceph pool, copied, or snapshots of disks) of a project. Import, export, ' +
      'copy and snapshot flatten an image and answer 202 with an operation to poll.',
  ],
  ['disks', 'Copy-on-write clones of an image, each exported as an iSCSI target a node boots from.'],
  ['nodes', 'Which disk a node boots from: its PXE and iPXE boot files. Only nodes HIL gives the project.'],
  ['operations', 'The journal of multi-step operations: steps, progress and how each ended.'],
  ['admin', 'What admins inspect and repair: every image record, records alone, iSCSI targets, reconciliation.'],
  [
    'standalone',
    'Users, memberships, nodes and NICs of standalone mode (no HIL: `[driver] net_isolator = standalone`).',
  ],
  ['boot', 'What booting nodes fetch: unauthenticated, one provisioned node’s script at a time.'],
  ['service', 'This instance, for operators’ tooling, unauthenticated: liveness, readiness, version and metrics.'],
  ['legacy images', 'The original BMI routes for images, snapshots and disks (form or JSON bodies, plain-text errors).'],
  ['legacy nodes', 'The original BMI routes for provisioning nodes.'],
  ['legacy projects', 'Project administration over the original conventions (BMI extension).'],
  ['legacy operations', 'The operation journal over the original conventions (BMI extension).'],
  ['legacy standalone', 'Users, nodes and NICs of standalone mode over the original conventions (BMI extension).'],
];

const DESCRIPTION = [
  'BMI boots bare-metal nodes from copy-on-write clones of golden images (Ceph RBD) exported over iSCSI.',
  '',
  'Two faces over the same operations:',
  '- `/v1`: resources under `/v1/projects/{project}`, JSON in and out, errors as `{code, message, details}` ' +
    '(`ErrorBody`, codes in `ErrorCode`), long operations as 202 with an operation to poll, pages ' +
    '(`limit`, `cursor`), `ETag` and `If-Match`, and `Idempotency-Key` on creates.',
  '- the original BMI routes (tags `legacy …`), kept byte for byte for existing clients: a `project` field in ' +
    'every body, form-encoded or JSON, plain-text `Success` and plain-text errors.',
  '',
  'Every route but `/boot/ipxe` and the `service` routes takes HTTP Basic credentials: the caller’s HIL user (or BMI ' +
    'user in standalone mode).',
].join('\n');

/** Routes outside /v1 that are not the original's either: what booting nodes and operators' tools fetch. */
const NEITHER_FACE = new Set(['BootController', 'ServiceController']);
const NEITHER_FACE_TAGS = new Set(['boot', 'service']);

/**
 * The OpenAPI document: operationIds are the controller method names (those of the original's routes prefixed
 * `legacy`), every operation states its security, and every key is sorted so diffs stay small.
 */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('BMI: Bare Metal Imaging')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'the BMI that serves this document')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'HIL (or BMI standalone) user and password' });
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controllerKey: string, methodKey: string) =>
      controllerKey.endsWith('V1Controller') || NEITHER_FACE.has(controllerKey)
        ? methodKey
        : `legacy${methodKey[0].toUpperCase()}${methodKey.slice(1)}`,
  });
  for (const [path, item] of Object.entries(document.paths)) {
    for (const op of Object.values(item) as { tags?: string[]; security?: unknown[] }[]) {
      if (typeof op !== 'object' || op === null || !('responses' in op)) continue;
      // an operation that declares no credentials takes none
      op.security ??= [];
      if (!isV1Path(path) && !op.tags?.some((t) => NEITHER_FACE_TAGS.has(t))) {
        op.tags = (op.tags ?? []).map((t) => `legacy ${t}`);
      }
    }
  }
  return sortKeys(document) as OpenAPIObject;
}

/**
 * Swagger UI at /docs. Its requests say they come from a page's script (`X-Requested-With`), so that a refused
 * password is answered with a challenge the browser leaves to the page (BROWSER_CHALLENGE), instead of
 * holding the request for a login prompt of its own.
 */
export function useSwagger(app: INestApplication): void {
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    swaggerOptions: {
      // sent to the page as its source text: plain JavaScript, nothing from outside
      requestInterceptor: (req: { headers: Record<string, string> }) => {
        req.headers['X-Requested-With'] = 'XMLHttpRequest';
        return req;
      },
    },
  });
}

/**
 * Recursively sorts object keys; arrays keep their order, except lists of strings under `required` and `enum`.
 * The tags keep theirs (the order Swagger UI shows them in).
 */
export function sortKeys(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => sortKeys(v));
    return (key === 'required' || key === 'enum') && items.every((i) => typeof i === 'string') ? [...items].sort() : items;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k], k);
    return out;
  }
  return value;
}
