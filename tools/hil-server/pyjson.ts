/**
 * Python's `json.loads` and `json.dumps`, as far as HIL's bodies depend on them, so that this server answers
 * byte for byte what HIL answered:
 * - `pyDumps` uses json.dumps's defaults: separators `, ` and `: `, ASCII only (`\uXXXX`), floats as Python's
 *   repr (`1.0`, `1e-05`, `1e+16`), optional `sort_keys` (code point order, nested objects too);
 * - `pyLoads` keeps what JSON.parse loses: the key order of objects (as a Map), ints (as bigint) apart from
 *   floats (as PyFloat), and it accepts Python's NaN/Infinity.
 */

/** A float read from JSON (Python keeps `1.0` a float; JavaScript would make it `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A value as Python sees it. Plain JS objects and numbers are accepted too (integral numbers are ints). */
export type Py = null | boolean | string | number | bigint | PyFloat | Py[] | Map<string, Py> | { [key: string]: Py };

export function pyDumps(value: Py, opts: { sortKeys?: boolean } = {}): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : pyFloatRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map((v) => pyDumps(v, opts)).join(', ')}]`;
  let entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  if (opts.sortKeys) entries = entries.sort(([a], [b]) => pyCompare(a, b));
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyDumps(v, opts)}`).join(', ')}}`;
}

/** Python's default string comparison (code points; JavaScript's `<` compares UTF-16 units). */
export function pyCompare(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

export function pySorted(names: Iterable<string>): string[] {
  return [...names].sort(pyCompare);
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
ESCAPES['\b'] = '\\b';
ESCAPES['\f'] = '\\f';

/** json.dumps of a str with ensure_ascii: everything outside space..~ escaped, per UTF-16 unit. */
function pyString(s: string): string {
  const body = s.replace(
    /[\\"]|[^\x20-\x7e]/g,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${body}"`;
}

/** repr(float): the shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16, else `d.ddde+XX`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = x.toExponential().split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const e = Number(exp);
  if (e >= -4 && e < 16) {
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    const int = digits.slice(0, e + 1).padEnd(e + 1, '0');
    return `${sign}${int}.${digits.slice(e + 1) || '0'}`;
  }
  const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

// JSON strings may not hold control characters unescaped: the class names them
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

/** json.loads: throws SyntaxError on what Python refuses (strict mode: no control characters in strings). */
export function pyLoads(text: string): Py {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string, v: Py): Py => {
    if (!text.startsWith(word, i)) fail('unexpected token');
    i += word.length;
    return v;
  };
  const token = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    return re.exec(text);
  };
  const str = (): string => {
    const m = token(STRING);
    if (!m) return fail('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): Py => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, Py>();
      ws();
      if (text[i] === '}') return (i++, obj);
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected :');
        obj.set(k, value());
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr: Py[] = [];
      ws();
      if (text[i] === ']') return (i++, arr);
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    if (c === 'n') return literal('null', null);
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'N') return literal('NaN', new PyFloat(NaN));
    if (c === 'I') return literal('Infinity', new PyFloat(Infinity));
    if (text.startsWith('-Infinity', i)) return literal('-Infinity', new PyFloat(-Infinity));
    const m = token(NUMBER);
    if (!m) return fail('unexpected token');
    i += m[0].length;
    return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : new PyFloat(Number(m[0]));
  };
  const v = value();
  ws();
  if (i !== text.length) fail('extra data');
  return v;
}
