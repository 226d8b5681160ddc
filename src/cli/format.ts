import Table from 'cli-table3';
import { ApiResult } from './client';
import { CliError, EXIT } from './errors';

/** Turns a call's result into the text printed on stdout (without the final newline). */
export type Render = (result: ApiResult) => string;

type Cell = string | number | boolean;

/** A plain table, without colours so that the output is the same on a terminal and in a pipe. */
export function table(head: string[], rows: Cell[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map(cell));
  return t.toString();
}

function cell(value: Cell): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** `Success` for plain successes, a string or number as it is, anything else as JSON. */
export const plain: Render = (result) => {
  if (result.kind === 'success') return 'Success';
  const v = result.value;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
};

/**
 * What `--json` prints: the JSON value the server sent, on one line; a plain `Success` becomes
 * `{"status":"Success"}`, so that the output always parses as JSON.
 */
export const asJson: Render = (result) =>
  result.kind === 'success' ? JSON.stringify({ status: 'Success' }) : JSON.stringify(result.value);

/** A one-column table of the names in a JSON array. */
export function listOf(header: string): Render {
  return (result) =>
    table(
      [header],
      arrayOf(result).map((name) => [String(name)]),
    );
}

/** A table of the pairs (or longer tuples) in a JSON array. */
export function tuplesOf(head: string[]): Render {
  return (result) =>
    table(
      head,
      arrayOf(result).map((row) => {
        if (!Array.isArray(row)) throw unexpected(result);
        return head.map((_, i) => (row[i] ?? '') as Cell);
      }),
    );
}

/** A table of objects (one, or an array of them), one column per key. */
export function recordsOf(head: string[], keys: string[]): Render {
  return (result) => {
    const value = result.kind === 'value' && !Array.isArray(result.value) ? [result.value] : arrayOf(result);
    return table(
      head,
      value.map((row) => {
        if (row === null || typeof row !== 'object') throw unexpected(result);
        return keys.map((k) => ((row as Record<string, unknown>)[k] ?? '') as Cell);
      }),
    );
  };
}

/** A two-column table of the entries of a JSON object. */
export function entriesOf(head: [string, string]): Render {
  return (result) => {
    const v = result.kind === 'value' ? result.value : undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw unexpected(result);
    return table(
      head,
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]),
    );
  };
}

function arrayOf(result: ApiResult): unknown[] {
  if (result.kind !== 'value' || !Array.isArray(result.value)) throw unexpected(result);
  return result.value;
}

function unexpected(result: ApiResult): CliError {
  const text = result.kind === 'success' ? 'Success' : JSON.stringify(result.value);
  return new CliError(`Error: unexpected answer from the server: ${text.slice(0, 200)}`, EXIT.REFUSED);
}
