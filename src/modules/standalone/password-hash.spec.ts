import * as crypto from 'node:crypto';
import { burnVerification, costOf, DEFAULT_COST, hashPassword, needsRehash, verifyPassword } from './password-hash';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

const CHEAP = { ln: 4, r: 8, p: 1 };

describe('hashPassword', () => {
  it('writes a PHC-style scrypt string with its cost, a salt and the key; never the password', async () => {
    const h = await hashPassword('s3cret-Passw0rd', CHEAP);
    expect(h).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(h).not.toContain('s3cret');
  });

  it('uses the recommended scrypt cost unless told otherwise (N = 2^17, r = 8, p = 1)', async () => {
    expect(DEFAULT_COST).toEqual({ ln: 17, r: 8, p: 1 });
    expect(await hashPassword('x')).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$/);
    expect(costOf(12)).toEqual({ ln: 12, r: 8, p: 1 });
  });

  it('says when a stored hash is cheaper than the cost asked for, or does not parse', async () => {
    const old = await hashPassword('pw', { ln: 5, r: 8, p: 1 });
    expect(needsRehash(old, { ln: 6, r: 8, p: 1 })).toBe(true);
    expect(needsRehash(old, { ln: 5, r: 8, p: 1 })).toBe(false);
    expect(needsRehash(old, { ln: 4, r: 8, p: 1 })).toBe(false);
    expect(needsRehash('$scrypt$garbage', CHEAP)).toBe(true);
  });

  it('salts every hash afresh: the same password never hashes the same twice', async () => {
    const a = await hashPassword('same', CHEAP);
    const b = await hashPassword('same', CHEAP);
    expect(a).not.toBe(b);
    expect(a.split('$')[3]).not.toBe(b.split('$')[3]);
  });
});

describe('verifyPassword', () => {
  it('accepts the password and refuses anything else', async () => {
    const h = await hashPassword('correct horse', CHEAP);
    expect(await verifyPassword('correct horse', h)).toBe(true);
    for (const wrong of ['correct hors', 'correct horse ', 'Correct horse', '', 'correct horse\n']) {
      expect({ wrong, ok: await verifyPassword(wrong, h) }).toEqual({ wrong, ok: false });
    }
  });

  it('verifies with the cost written in the hash (hashes made with another cost keep working)', async () => {
    const h = await hashPassword('pw', { ln: 5, r: 4, p: 2 });
    expect(await verifyPassword('pw', h)).toBe(true);
  });

  it('compares the keys in constant time (timingSafeEqual)', async () => {
    const spy = jest.mocked(crypto.timingSafeEqual);
    const h = await hashPassword('pw', CHEAP);
    spy.mockClear();
    expect(await verifyPassword('nope', h)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('takes passwords with ":", spaces and any unicode; the same text in NFC or NFD is the same password', async () => {
    const h = await hashPassword('a:b c\u00e9', CHEAP);
    expect(await verifyPassword('a:b c\u00e9', h)).toBe(true);
    expect(await verifyPassword('a:b ce\u0301', h)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['plain text', 'secret'],
    ['another scheme', '$2b$10$abcdefghijklmnopqrstuv'],
    ['a cost out of range', '$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['a short key', '$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5'],
  ])('refuses a stored value that is not a hash it knows (%s), never throwing', async (_n, stored) => {
    expect(await verifyPassword('secret', stored)).toBe(false);
  });
});

describe('burnVerification', () => {
  it('spends one verification and accepts nothing', async () => {
    await expect(burnVerification('whatever')).resolves.toBeUndefined();
  });
});
