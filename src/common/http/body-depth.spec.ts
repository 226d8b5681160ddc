import { MAX_BODY_DEPTH, tooDeep } from './body-depth';

const nested = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

describe('tooDeep', () => {
  it('passes flat and moderately nested bodies, up to the limit', () => {
    expect(tooDeep({ project: 'p', disk_name: 'd' }, MAX_BODY_DEPTH)).toBe(false);
    expect(tooDeep('text', MAX_BODY_DEPTH)).toBe(false);
    expect(tooDeep(null, MAX_BODY_DEPTH)).toBe(false);
    expect(tooDeep(nested(MAX_BODY_DEPTH), MAX_BODY_DEPTH)).toBe(false);
  });

  it('refuses one level more, and survives depths that overflow a recursive walk', () => {
    expect(tooDeep(nested(MAX_BODY_DEPTH + 1), MAX_BODY_DEPTH)).toBe(true);
    expect(tooDeep({ ok: 1, deep: nested(100000) }, MAX_BODY_DEPTH)).toBe(true);
  });
});
