import { BadRequestError, UnauthorizedError } from '../errors/domain-error';
import type { Credentials } from '../auth/caller';

export const NO_AUTH_MESSAGE = 'No Authentication Details Given';

/**
 * Reads HTTP Basic credentials. No header is a 400 with the original's text; a header that is not Basic, is
 * not base64 of `user:password`, or has an empty user is a 401. The password is split at the first `:` only,
 * so passwords may contain `:` (the original failed on them, §8 #11).
 */
export function parseBasicAuth(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') throw new BadRequestError(NO_AUTH_MESSAGE);
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!match) throw new UnauthorizedError('Authentication Failed: use HTTP Basic authentication');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new UnauthorizedError('Authentication Failed: malformed Basic credentials');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicAuthHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}
