import { ValidateBy, ValidationArguments, ValidationOptions, validateSync } from 'class-validator';
import type { Sections } from './ini-compat';

/**
 * How a config section class declares its keys: `@Ini` names the INI key (and its aliases, first wins) and
 * how its text becomes a value; the property's initial value is the default; class-validator decorators (and
 * `@Rule`) check the values; an optional `check(config)` method holds the rules that involve other sections.
 * The schema is thus stated once: loadConfig derives the known sections and keys from the classes.
 */

export type IniKind = 'string' | 'int' | 'bool' | 'list' | 'choice';

export interface IniOptions<C> {
  /** other `section.key` names read when the first is unset */
  aliases?: string[];
  kind?: IniKind;
  /** whether an empty value is an error; a function decides from the other sections (the drivers) */
  required?: boolean | ((context: C) => boolean);
  /** whole numbers: the accepted range */
  min?: number;
  max?: number;
  /** choices: the accepted values (compared lower-cased) */
  values?: readonly string[];
  /** a transformation of a non-empty string value, e.g. resolving a directory path */
  map?: (value: string) => string;
}

interface KeySpec<C> extends IniOptions<C> {
  property: string;
  keys: string[];
}

const SPECS = new Map<object, KeySpec<unknown>[]>();

/** Declares the property's INI key as `section.key`. */
export function Ini<C = unknown>(key: string, options: IniOptions<C> = {}): PropertyDecorator {
  return (target, property) => {
    const specs = SPECS.get(target.constructor) ?? [];
    specs.push({
      ...(options as IniOptions<unknown>),
      property: String(property),
      keys: [key, ...(options.aliases ?? [])],
    });
    SPECS.set(target.constructor, specs);
  };
}

/** A check with BMI's own message, given the value and the section object (one problem per line). */
export function Rule<T>(
  test: (value: T, section: Record<string, unknown>) => boolean,
  message: (value: T, section: Record<string, unknown>) => string,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'bmiConfigRule',
      validator: {
        validate: (value: T, args?: ValidationArguments) =>
          test(value, (args?.object ?? {}) as Record<string, unknown>),
        defaultMessage: (args?: ValidationArguments) =>
          message(args?.value as T, (args?.object ?? {}) as Record<string, unknown>),
      },
    },
    options,
  );
}

/** The `section.key` names a class declares. */
export function declaredKeys(section: new () => object): string[] {
  return (SPECS.get(section) ?? []).flatMap((s) => s.keys);
}

/** `[section] key`, as problems name a key. */
export function keyName(key: string): string {
  const [section, name] = key.split('.');
  return `[${section}] ${name}`;
}

/**
 * Reads one section class from the INI sections: each key converted by its kind (defaults kept for what is
 * unset or wrong), then the class's validators. Problems come in declaration order: conversions first, then
 * checks, so that each message names the key as the file spells it.
 */
export function readSection<T extends object, C>(
  Section: new () => T,
  sections: Sections,
  context: C,
  problems: string[],
): T {
  const section = new Section();
  const values = section as unknown as Record<string, unknown>;
  for (const spec of (SPECS.get(Section) ?? []) as KeySpec<C>[]) {
    const raw = first(sections, spec.keys);
    const required = typeof spec.required === 'function' ? spec.required(context) : spec.required === true;
    if (raw === '') {
      if (required) {
        const [main, ...aliases] = spec.keys;
        problems.push(
          `missing option ${keyName(main)}${aliases.length ? ` (or its alias ${aliases.map(keyName).join(', ')})` : ''}`,
        );
      }
      continue;
    }
    const converted = convert(spec, raw);
    if (converted instanceof Problem) problems.push(converted.text);
    else values[spec.property] = converted;
  }
  for (const error of validateSync(section, { stopAtFirstError: true, forbidUnknownValues: false })) {
    // a rule on a list reports each bad entry on a line of its own
    problems.push(...Object.values(error.constraints ?? {}).flatMap((m) => m.split('\n')));
  }
  return section;
}

function first(sections: Sections, keys: string[]): string {
  for (const key of keys) {
    const [section, name] = key.split('.');
    const v = sections[section]?.[name];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

class Problem {
  constructor(readonly text: string) {}
}

function convert<C>(spec: KeySpec<C>, raw: string): unknown {
  const name = keyName(spec.keys[0]);
  switch (spec.kind ?? 'string') {
    case 'string':
      return spec.map ? spec.map(raw) : raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'bool':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      return new Problem(`${name} must be true or false, got "${raw}"`);
    case 'int': {
      const n = Number(raw);
      if (/^-?\d+$/.test(raw) && n >= (spec.min ?? -Infinity) && n <= (spec.max ?? Infinity)) return n;
      const range = spec.min !== undefined && spec.max !== undefined ? ` between ${spec.min} and ${spec.max}` : '';
      return new Problem(`${name} must be a whole number${range}, got "${raw}"`);
    }
    case 'choice': {
      const v = raw.toLowerCase();
      if ((spec.values ?? []).includes(v)) return v;
      return new Problem(`${name} = "${v}" is not one of the accepted values: ${(spec.values ?? []).join(', ')}`);
    }
  }
}
