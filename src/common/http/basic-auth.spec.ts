import { BadRequestError, UnauthorizedError } from '../errors/domain-error';
import { basicAuthHeader, NO_AUTH_MESSAGE, parseBasicAuth } from './basic-auth';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function refusal(header: string | undefined): { status: number; message: string; error: unknown } {
  try {
    parseBasicAuth(header);
  } catch (e) {
    return { status: (e as { status: number }).status, message: (e as Error).message, error: e };
  }
  throw new Error(`expected ${JSON.stringify(header)} to be refused`);
}

describe('parseBasicAuth', () => {
  it('reads user and password from a Basic header', () => {
    expect(parseBasicAuth(`Basic ${b64('alice:alicepass')}`)).toEqual({ username: 'alice', password: 'alicepass' });
  });

  it.each([undefined, '', '   '])('no header (%p) is 400 "No Authentication Details Given"', (header) => {
    const r = refusal(header);
    expect(r.error).toBeInstanceOf(BadRequestError);
    expect(r.status).toBe(400);
    expect(r.message).toBe(NO_AUTH_MESSAGE);
    expect(NO_AUTH_MESSAGE).toBe('No Authentication Details Given');
  });

  it.each([
    ['Bearer', 'Bearer abc.def.ghi'],
    ['Digest', 'Digest username="alice"'],
    ['a bare token', b64('alice:pw')],
    ['Basic without a token', 'Basic'],
    ['Basic with two tokens', `Basic ${b64('a:b')} ${b64('c:d')}`],
    ['bad base64 characters', 'Basic !!!notbase64!!!'],
    ['base64 that decodes to nothing', 'Basic ='],
    ['no colon', `Basic ${b64('alicealicepass')}`],
    ['an empty user', `Basic ${b64(':alicepass')}`],
    ['an empty user and password', `Basic ${b64(':')}`],
  ])('%s is 401', (_, header) => {
    const r = refusal(header);
    expect(r.error).toBeInstanceOf(UnauthorizedError);
    expect(r.status).toBe(401);
  });

  it('the 401 message never echoes the credentials', () => {
    const r = refusal(`Basic ${b64('secretuser')}`);
    expect(r.message).not.toContain('secretuser');
    expect(r.message).not.toContain(b64('secretuser'));
  });

  it('keeps a password containing ":" whole (the original failed, §8 #11)', () => {
    expect(parseBasicAuth(`Basic ${b64('alice:pa:ss:')}`)).toEqual({ username: 'alice', password: 'pa:ss:' });
  });

  it('accepts an empty password', () => {
    expect(parseBasicAuth(`Basic ${b64('alice:')}`)).toEqual({ username: 'alice', password: '' });
  });

  it('decodes UTF-8 user names and passwords', () => {
    expect(parseBasicAuth(`Basic ${b64('jürgen:pässwört€🔑')}`)).toEqual({
      username: 'jürgen',
      password: 'pässwört€🔑',
    });
  });

  it('accepts the scheme in any case and surrounding whitespace', () => {
    expect(parseBasicAuth(`  basic   ${b64('bob:bobpass')}  `)).toEqual({ username: 'bob', password: 'bobpass' });
    expect(parseBasicAuth(`BASIC ${b64('bob:bobpass')}`)).toEqual({ username: 'bob', password: 'bobpass' });
  });

  it('accepts base64 without padding', () => {
    const token = b64('ab:c').replace(/=+$/, '');
    expect(parseBasicAuth(`Basic ${token}`)).toEqual({ username: 'ab', password: 'c' });
  });

  it('round-trips with basicAuthHeader', () => {
    const c = { username: 'ünïcode', password: 'with:colon and space' };
    expect(basicAuthHeader(c)).toBe(`Basic ${b64('ünïcode:with:colon and space')}`);
    expect(parseBasicAuth(basicAuthHeader(c))).toEqual(c);
  });
});
