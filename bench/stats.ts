/** Small helpers the benchmarks share: timing, percentiles, command-line arguments. */

/** Milliseconds since `t0` (process.hrtime.bigint()). */
export const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** The p-th percentile (nearest rank) of an ascending array; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50 and p95 of samples in any order. */
export function summary(samples: readonly number[]): { n: number; p50: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95) };
}

/** `--name value` from the command line as a number, or the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--name a,b,c` from the command line as numbers, or the fallback. */
export function listArg(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',').map(Number) : fallback;
}

/** A Markdown table: columns of numbers (and ratios such as 1.05x) right-aligned, the others left-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const numeric = header.map((_, c) => rows.every((r) => /^(-|[\d.]+x?)$/.test(r[c])));
  const line = (cells: string[]) =>
    `| ${cells.map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => `-${'-'.repeat(w)}${numeric[c] ? ':' : '-'}`).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
