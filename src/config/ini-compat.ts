import * as ini from 'ini';

/**
 * The original BMI's configuration syntax, read as Python's ConfigParser read it: `key: value` lines,
 * continuation lines, `;` comments after white space, `[DEFAULT]` and `%(name)s` interpolation. What the keys
 * mean is config/sections.ts's business.
 */

/** INI sections by lower-cased name, each a map of lower-cased key to raw string value. */
export type Sections = Record<string, Record<string, string>>;

/**
 * Rewrites Python ConfigParser syntax (the original BMI's) into what the `ini` package reads the same way:
 * `key: value` becomes `key = value`; a value keeps `#`, `;` and quotes literally, except that `;` after
 * white space starts a comment, as in Python 2; indented lines continue the previous value. Values are
 * written JSON-quoted, which `ini` reads back verbatim.
 */
export function toIniSyntax(text: string): string {
  const out: string[] = [];
  let current: { key: string; value: string } | null = null;
  const flush = () => {
    if (current) out.push(`${current.key} = ${JSON.stringify(current.value)}`);
    current = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^\s/.test(line) && line.trim() !== '' && current) {
      current.value += `\n${stripInlineComment(line.trim())}`;
      continue;
    }
    flush();
    if (line.trim() === '' || /^[#;]/.test(line) || /^rem(\s|$)/i.test(line)) continue;
    if (/^\[[^\]]+\]/.test(line)) {
      out.push(line.trim());
      continue;
    }
    const option = /^([^:=\s][^:=]*?)\s*[:=]\s?(.*)$/.exec(line);
    if (!option) throw new Error(`cannot parse line "${line.trim()}"`);
    current = { key: option[1].trim(), value: stripInlineComment(option[2].trim()) };
  }
  flush();
  return out.join('\n');
}

function stripInlineComment(value: string): string {
  const m = /\s;/.exec(value);
  return (m ? value.slice(0, m.index) : value).trim();
}

/** Reads the INI text into lower-cased sections, with `%(name)s` interpolation as Python's ConfigParser did. */
export function parseIni(text: string): Sections {
  const raw = ini.parse(toIniSyntax(text)) as Record<string, unknown>;
  const sections: Sections = {};
  const defaults: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const target = name.toLowerCase() === 'default' ? defaults : (sections[name.toLowerCase()] ??= {});
      flatten(value as Record<string, unknown>, target);
    }
  }
  for (const section of Object.values(sections)) {
    for (const [k, v] of Object.entries(defaults)) if (!(k in section)) section[k] = v;
    const raw = { ...section };
    for (const key of Object.keys(section)) section[key] = interpolate(raw, raw[key], 0);
  }
  return sections;
}

function flatten(value: Record<string, unknown>, into: Record<string, string>): void {
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object') continue; // ini's nested "a.b" sections are not ours
    into[k.toLowerCase()] = v === undefined || v === null ? '' : String(v).trim();
  }
}

/** `%%` is a literal `%`; `%(name)s` is the raw value of `name`, itself interpolated (as ConfigParser does). */
function interpolate(raw: Record<string, string>, value: string, depth: number): string {
  return value.replace(/%%|%\(([^)]+)\)s/g, (whole, name: string | undefined) => {
    if (name === undefined) return '%';
    const v = raw[name.toLowerCase()];
    return v === undefined || depth >= 10 ? whole : interpolate(raw, v, depth + 1);
  });
}

/** `BMI_<SECTION>_<KEY>=value` sets [section] key; section names may contain `_` (rest_api, net_isolator). */
export function overrideFromEnv(sections: Sections, env: NodeJS.ProcessEnv, known: readonly string[]): void {
  const bySpecificity = [...known].sort((a, b) => b.length - a.length);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('BMI_') || value === undefined) continue;
    const rest = name.slice(4).toLowerCase();
    const section = bySpecificity.find((s) => rest.startsWith(`${s}_`) && rest.length > s.length + 1);
    if (!section) continue;
    (sections[section] ??= {})[rest.slice(section.length + 1)] = value.trim();
  }
}
