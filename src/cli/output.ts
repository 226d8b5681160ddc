import Table from 'cli-table3';
import { stringify } from 'yaml';
import { UsageError } from './errors';

/** Where the CLI writes: process.stdout / process.stderr, or a buffer in tests. */
export interface Output {
  write(text: string): unknown;
  /** a terminal (progress bars are drawn on one only) */
  isTTY?: boolean;
}

export const FORMATS = ['table', 'json', 'yaml', 'value'] as const;
export type Format = (typeof FORMATS)[number];

/** What every command prints with: `-f FORMAT`, `-c COLUMN` (repeatable), and `--json` for `-f json`. */
export interface OutputOptions {
  format?: Format;
  column?: string[];
  json?: boolean;
}

/** One printed item: flat, its keys the columns (snake_case, as /v1 names them). */
export type Row = Record<string, unknown>;

/**
 * Prints what commands return, in the format asked for:
 * - table: a table (a listing), or a Field/Value table (one item);
 * - json / yaml: the objects (a listing is an array), keys as in /v1, stable across versions;
 * - value: the values only, one item per line, columns separated by a space (for shell scripts).
 * `-c` keeps the named columns, in the order given.
 */
export class Printer {
  constructor(
    private readonly out: Output,
    private readonly options: () => OutputOptions,
  ) {}

  private get format(): Format {
    const o = this.options();
    return o.json ? 'json' : (o.format ?? 'table');
  }

  /** Refuses an unknown -c before a command acts (a create must not run, then fail on its output). */
  check(columns: string[]): void {
    this.select(columns);
  }

  /** Keeps the columns asked for with -c (all of `columns` without it); an unknown one is a usage error. */
  private select(columns: string[]): string[] {
    const wanted = this.options().column;
    if (!wanted?.length) return columns;
    const unknown = wanted.filter((c) => !columns.includes(c));
    if (unknown.length) throw new UsageError(`unknown column ${unknown.join(', ')}: choose from ${columns.join(', ')}`);
    return wanted;
  }

  list(rows: Row[], columns: string[]): void {
    const cols = this.select(columns);
    const picked = rows.map((r) => pick(r, cols));
    switch (this.format) {
      case 'json':
        return this.line(JSON.stringify(picked));
      case 'yaml':
        return this.text(stringify(picked));
      case 'value':
        return picked.forEach((r) => this.line(cols.map((c) => cell(r[c])).join(' ')));
      case 'table':
        return this.line(
          table(
            cols,
            picked.map((r) => cols.map((c) => cell(r[c]))),
          ),
        );
    }
  }

  one(row: Row, columns: string[]): void {
    const cols = this.select(columns);
    const picked = pick(row, cols);
    switch (this.format) {
      case 'json':
        return this.line(JSON.stringify(picked));
      case 'yaml':
        return this.text(stringify(picked));
      case 'value':
        return cols.forEach((c) => this.line(cell(picked[c])));
      case 'table':
        return this.line(
          table(
            ['Field', 'Value'],
            cols.map((c) => [c, cell(picked[c])]),
          ),
        );
    }
  }

  /** A command that returns nothing: `Success`, or `{"status":"Success"}` in JSON and YAML. */
  done(): void {
    const format = this.format;
    if (format === 'json') this.line(JSON.stringify({ status: 'Success' }));
    else if (format === 'yaml') this.text(stringify({ status: 'Success' }));
    else this.line('Success');
  }

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }

  private text(text: string): void {
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

function pick(row: Row, cols: string[]): Row {
  const out: Row = {};
  for (const c of cols) out[c] = row[c] ?? null;
  return out;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain table, without colours so that the output is the same on a terminal and in a pipe. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row);
  return t.toString();
}
