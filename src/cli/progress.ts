import type { Operation } from '@bmi/client';
import type { Output } from './output';

const WIDTH = 30;

/**
 * The progress of an operation on stderr while `--wait` waits for it: one line redrawn in place on a
 * terminal (`[#######.......]  45%  flatten 5img14`), and nothing on a pipe, whose reader wants the result only.
 * Hand-written: one line of text, where a progress-bar library would bring terminal handling this does not need.
 */
export class ProgressLine {
  private drawn = false;

  constructor(private readonly err: Output) {}

  update(op: Operation): void {
    if (!this.err.isTTY) return;
    const p = op.progress;
    const share = p && p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const filled = Math.round(share * WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
    const what = p ? p.step : (op.steps.at(-1)?.name ?? op.kind);
    this.err.write(`\r\x1b[2K${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${what}`);
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) this.err.write('\n');
    this.drawn = false;
  }
}
