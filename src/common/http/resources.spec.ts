import { assertIfMatch, decodeCursor, encodeCursor, etagOf, paginate, PreconditionFailedError } from './resources';

describe('paginate', () => {
  const items = ['d', 'a', 'c', 'b', 'e'].map((name) => ({ name }));
  const names = (p: { items: { name: string }[] }) => p.items.map((i) => i.name);

  it('pages in key order, with a cursor until the last page', () => {
    const first = paginate(items, (i) => i.name, { limit: 2 });
    expect(names(first)).toEqual(['a', 'b']);
    const second = paginate(items, (i) => i.name, { limit: 2, cursor: first.next_cursor! });
    expect(names(second)).toEqual(['c', 'd']);
    const last = paginate(items, (i) => i.name, { limit: 2, cursor: second.next_cursor! });
    expect([names(last), last.next_cursor]).toEqual([['e'], null]);
  });

  it('neither repeats nor skips the items that stay when the listing changes between pages', () => {
    const first = paginate(items, (i) => i.name, { limit: 2 });
    const changed = [...items.filter((i) => i.name !== 'a'), { name: 'bb' }];
    expect(names(paginate(changed, (i) => i.name, { limit: 10, cursor: first.next_cursor! }))).toEqual([
      'bb',
      'c',
      'd',
      'e',
    ]);
  });

  it('gives no cursor when the page is exactly the rest, and 100 items by default', () => {
    expect(paginate(items, (i) => i.name, { limit: 5 }).next_cursor).toBeNull();
    const many = Array.from({ length: 150 }, (_, i) => ({ name: String(i).padStart(3, '0') }));
    expect(paginate(many, (i) => i.name, {}).items).toHaveLength(100);
  });

  it('refuses a cursor it did not give with a 400', () => {
    for (const bad of ['garbage', encodeCursor('x').slice(2), Buffer.from('{"after":1}').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ status: 400, code: 'BAD_REQUEST' }));
    }
    expect(decodeCursor(encodeCursor('a/b'))).toBe('a/b');
  });
});

describe('ETag and If-Match', () => {
  const disk = { name: 'web1', image: 'centos7' };

  it('the tag follows the representation', () => {
    expect(etagOf(disk)).toBe(etagOf({ ...disk }));
    expect(etagOf(disk)).not.toBe(etagOf({ ...disk, image: 'ubuntu' }));
    expect(etagOf(disk)).toMatch(/^"[\w-]{27}"$/);
  });

  it('matches no header, *, the tag, its weak form and a list holding it; refuses others with 412', () => {
    const tag = etagOf(disk);
    for (const header of [undefined, '*', tag, `W/${tag}`, `"x", ${tag}`]) {
      expect(() => assertIfMatch(header, disk)).not.toThrow();
    }
    let error: unknown;
    try {
      assertIfMatch('"stale"', disk);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(error).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED', details: { etag: tag } });
  });
});
