import { DomainError } from './common/errors/domain-error';
import * as families from './common/errors/domain-error';
import { codeOfStatus, ERROR_CODES, ErrorCode } from './common/errors/error-codes';
import * as hil from './modules/hil/hil.errors';
import * as images from './modules/images/images.errors';
import * as storage from './modules/images/storage/storage.errors';
import * as iscsi from './modules/iscsi/iscsi.errors';
import * as nodes from './modules/nodes/nodes.errors';
import * as power from './modules/power/power.errors';
import * as projects from './modules/projects/projects.errors';
import * as standalone from './modules/standalone/standalone.errors';
import * as tftp from './modules/tftp/tftp.errors';
import * as service from './modules/service/service.errors';
import * as throttle from './modules/access/login-throttle';
import * as locks from './common/concurrency/locks';
import * as idempotency from './common/http/idempotency';
import * as resources from './common/http/resources';
import * as operations from './modules/operations/operations-v1.controller';

const MODULES = {
  families,
  hil,
  images,
  storage,
  iscsi,
  nodes,
  power,
  projects,
  standalone,
  tftp,
  service,
  throttle,
  locks,
  idempotency,
  resources,
  operations,
};

/** Every error class the app exports, made with placeholder arguments. */
function everyError(): DomainError[] {
  const out: DomainError[] = [];
  for (const exports of Object.values(MODULES)) {
    for (const value of Object.values(exports)) {
      if (typeof value !== 'function' || !(value.prototype instanceof DomainError || value === DomainError)) continue;
      const make = value as unknown as new (...args: string[]) => DomainError;
      out.push(new make('x', 'y'));
    }
  }
  return out;
}

describe('the error codes', () => {
  it('each error class answers the status its code is documented with', () => {
    const errors = everyError();
    expect(errors.length).toBeGreaterThan(50);
    for (const e of errors)
      expect([e.constructor.name, e.status]).toEqual([e.constructor.name, ERROR_CODES[e.code][0]]);
  });

  it('every code but the catch-alls belongs to an error class or an HTTP status', () => {
    const used = new Set<ErrorCode>(everyError().map((e) => e.code));
    for (const status of [400, 401, 403, 404, 405, 409, 412, 413, 415, 429, 500, 502, 503])
      used.add(codeOfStatus(status));
    const unused = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => !used.has(c));
    expect(unused).toEqual(['HTTP_ERROR']);
  });

  it('an HTTP status maps to its code, and one without a code of its own to HTTP_ERROR or INTERNAL', () => {
    expect([codeOfStatus(412), codeOfStatus(418), codeOfStatus(504)]).toEqual([
      'PRECONDITION_FAILED',
      'HTTP_ERROR',
      'INTERNAL',
    ]);
  });
});
