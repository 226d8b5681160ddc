import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document: operationId = controller method name, every key sorted so diffs stay small. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('BMI: Bare Metal Imaging')
    .setDescription(
      'Boots bare-metal nodes from copy-on-write clones of golden images (Ceph RBD) exported over iSCSI. ' +
        'The routes keep the original BMI REST API: HTTP Basic auth with HIL credentials, form-encoded fields ' +
        '(JSON accepted), a `project` field on every call, plain-text `Success` or JSON bodies, plain-text errors.',
    )
    .setVersion('1')
    .addBasicAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
  });
  return sortKeys(document) as OpenAPIObject;
}

export function useSwagger(app: INestApplication): void {
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
}

/** Recursively sorts object keys; arrays keep their order, except lists of strings under `required` and `enum`. */
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
