import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes of standalone mode: scrypt with a random 16-byte salt per password, kept as a PHC-style string
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (unpadded base64), so that the cost can be raised later and
 * older hashes still verify. Plain passwords are only ever held in memory, never stored nor logged.
 */

export interface ScryptCost {
  /** log2 of scrypt's N (CPU/memory cost) */
  ln: number;
  r: number;
  p: number;
}

/**
 * N = 2^17, r = 8, p = 1: OWASP's recommendation for scrypt (128 MiB and a few hundred ms per hash). Hashes made
 * at a lower cost (BMI's first releases used Node's default, N = 2^14) still verify, and are replaced at their
 * user's next successful login (needsRehash).
 */
export const DEFAULT_COST: ScryptCost = { ln: 17, r: 8, p: 1 };

/** The cost of new hashes for `[auth] scrypt_cost` (log2 N). */
export function costOf(ln: number): ScryptCost {
  return { ...DEFAULT_COST, ln };
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** cost.ln,
    r: cost.r,
    p: cost.p,
    maxmem: 256 * 2 ** cost.ln * cost.r + 32 * 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const b64 = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '');

/** A new hash of `password`, with a fresh random salt. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost, KEY_BYTES);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

/** Whether a stored hash was made at a lower cost than `cost` (or does not parse), so that it should be redone. */
export function needsRehash(stored: string, cost: ScryptCost): boolean {
  const m = PHC.exec(stored);
  if (!m) return true;
  return Number(m[1]) < cost.ln || Number(m[2]) < cost.r || Number(m[3]) < cost.p;
}

/** Whether `password` matches `stored` (compared in constant time); false for a hash that does not parse. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (!m) return false;
  const cost = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.ln < 1 || cost.ln > 20 || cost.r < 1 || cost.p < 1) return false;
  const salt = Buffer.from(m[4], 'base64');
  const expected = Buffer.from(m[5], 'base64');
  if (expected.length < 16) return false;
  const key = await derive(password, salt, cost, expected.length);
  return timingSafeEqual(key, expected);
}

const dummies = new Map<number, Promise<string>>();

/**
 * Spends the time of one verification at `cost` without a user to verify against, so that an unknown user
 * name takes as long to refuse as a wrong password (user names cannot be probed by timing).
 */
export async function burnVerification(password: string, cost: ScryptCost = DEFAULT_COST): Promise<void> {
  let dummy = dummies.get(cost.ln);
  if (!dummy) dummies.set(cost.ln, (dummy = hashPassword('standalone-mode-dummy-password', cost)));
  await verifyPassword(password, await dummy);
}
