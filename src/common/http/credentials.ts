import type { Request } from 'express';
import type { Credentials } from '../auth/caller';

export type CallerRequest = Request & { credentials?: Credentials };

/** The caller's HIL credentials, as parsed by the guard of the route's face (LegacyAuthGuard or V1AuthGuard). */
export function callerCredentials(req: Request): Credentials {
  const credentials = (req as CallerRequest).credentials;
  if (!credentials) throw new Error('no auth guard ran before the access check');
  return credentials;
}
