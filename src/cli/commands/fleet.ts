import { Command, InvalidArgumentError } from 'commander';
import {
  createSnapshot,
  deployNode,
  getDeployment,
  type Operation,
  releaseNode,
  setNodePower,
  SUCCEEDED_STATES,
} from '@bmi/client';
import { CliError, EXIT } from '../errors';
import type { Output, Row } from '../output';
import { Session } from '../session';

const FLEET_COLUMNS = ['node', 'disk', 'state', 'step', 'ip', 'seconds', 'error'];

function seconds(value: string): number {
  if (!/^[1-9]\d{0,4}$/.test(value)) throw new InvalidArgumentError('expected 1 to 99999 seconds.');
  return Number(value);
}

/** One node's line: where its operation is, and how it ended. */
interface NodeLine {
  node: string;
  disk: string;
  /** running, then deployed / booted / released, or failed / timed out */
  state: string;
  step: string;
  ip: string | null;
  started: number;
  ended: number | null;
  error: string | null;
}

/**
 * The nodes of a `bmi boot` or `bmi release`, one line each, on stderr: redrawn in place on a terminal, and a line
 * per change elsewhere (a log keeps every step). Hand-written: a few lines of text redrawn with two escape
 * sequences, where a terminal UI library would bring far more than this needs.
 */
class FleetProgress {
  private drawn = 0;

  constructor(
    private readonly err: Output,
    readonly lines: NodeLine[],
  ) {}

  update(line: NodeLine, change: Partial<NodeLine>): void {
    const before = `${line.state} ${line.step}`;
    Object.assign(line, change);
    if (this.err.isTTY) this.redraw();
    else if (`${line.state} ${line.step}` !== before) this.err.write(`${line.node}: ${line.state} ${line.step}\n`);
  }

  end(): void {
    if (this.err.isTTY && this.drawn) this.redraw();
  }

  private redraw(): void {
    const width = Math.max(...this.lines.map((l) => l.node.length));
    const text = this.lines
      .map((l) => {
        const s = ((l.ended ?? Date.now()) - l.started) / 1000;
        // one terminal line each (a wrapped line would throw the redraw off)
        const text = `${l.node.padEnd(width)}  ${l.state.padEnd(9)} ${s.toFixed(0).padStart(4)} s  ${l.step}`;
        return `\r\x1b[2K${text.slice(0, 100)}`;
      })
      .join('\n');
    this.err.write(`${this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : ''}${text}`);
    if (!this.drawn) this.drawn = this.lines.length;
    // the cursor stays on the last line; the next redraw goes back up to the first
  }
}

function row(l: NodeLine): Row {
  const end = l.ended ?? Date.now();
  return { ...l, seconds: Math.round((end - l.started) / 100) / 10 };
}

/** What an operation is doing, for its line: its current step, or how it ended. */
function stepOf(op: Operation): string {
  const running = [...op.steps].reverse().find((st) => st.state === 'started');
  return running?.name ?? op.steps.at(-1)?.name ?? op.kind;
}

/**
 * `bmi boot` and `bmi release`: many nodes at once, each through its own journaled operation on BMI, with a line
 * of progress per node and a result per node. Any node that did not make it makes the command fail (exit 1),
 * after the others are done.
 */
export function addFleetCommands(program: Command, s: Session): void {
  program
    .command('boot')
    .hook('preAction', () => s.print.check(FLEET_COLUMNS))
    .description(
      'boot nodes from new clones of an image: for each node, in parallel, make its disk (named after the node), ' +
        'write its boot files and power-cycle it',
    )
    .argument('<project>')
    .argument('<image>', 'the golden image or snapshot each node boots a clone of')
    .argument('<node...>', 'the nodes (HIL names); each must belong to the project')
    .option('--nic <nic>', 'the NIC the nodes PXE-boot from (default: each node’s first NIC)')
    .option('--wait', 'then wait until each node has logged in to its disk (it booted from it)')
    .option('--timeout <seconds>', 'with --wait: give up on a node after this long (default 600)', seconds)
    .action(
      async (
        project: string,
        image: string,
        nodes: string[],
        o: { nic?: string; wait?: boolean; timeout?: number },
      ) => {
        const progress = fleet(s, nodes);
        await Promise.all(
          progress.lines.map((line) =>
            perNode(progress, line, async () => {
              const op = await s.call((client) =>
                deployNode({ client, path: { project, node: line.node }, body: { image, nic: o.nic } }),
              );
              if (!(await follow(s, progress, line, op))) return;
              if (!o.wait) return progress.update(line, { state: 'deployed', step: 'power-cycled', ended: Date.now() });
              await waitForBoot(s, progress, line, project, (o.timeout ?? 600) * 1000);
            }),
          ),
        );
        finish(s, progress);
      },
    );

  program
    .command('release')
    .hook('preAction', () => s.print.check(FLEET_COLUMNS))
    .description('release nodes: power each off, remove its boot files and delete its disk, in parallel')
    .argument('<project>')
    .argument('<node...>')
    .option(
      '--snapshot <name>',
      'first save each disk as a new image: NAME with one node, NAME-<node> with several (the node is powered off first)',
    )
    .action(async (project: string, nodes: string[], o: { snapshot?: string }) => {
      const progress = fleet(s, nodes);
      await Promise.all(
        progress.lines.map((line) =>
          perNode(progress, line, async () => {
            if (o.snapshot !== undefined) {
              const name = nodes.length === 1 ? o.snapshot : `${o.snapshot}-${line.node}`;
              progress.update(line, { step: `power off ${line.node}` });
              await s.call((client) =>
                setNodePower({ client, path: { project, node: line.node }, body: { action: 'off' } }),
              );
              const { disk } = await s.call((client) => getDeployment({ client, path: { project, node: line.node } }));
              progress.update(line, { disk });
              const snap = await s.call((client) =>
                createSnapshot({ client, path: { project, disk }, body: { name } }),
              );
              if (!(await follow(s, progress, line, snap))) return;
            }
            const op = await s.call((client) => releaseNode({ client, path: { project, node: line.node } }));
            progress.update(line, { disk: String(op.args.disk ?? line.disk) });
            if (await follow(s, progress, line, op)) {
              progress.update(line, { state: 'released', step: '', ended: Date.now() });
            }
          }),
        ),
      );
      finish(s, progress);
    });
}

function fleet(s: Session, nodes: string[]): FleetProgress {
  const unique = [...new Set(nodes)];
  if (unique.length !== nodes.length) throw new CliError('Error: a node is named twice', EXIT.USAGE);
  const now = Date.now();
  return new FleetProgress(
    s.stderr,
    unique.map((node) => ({
      node,
      disk: node,
      state: 'running',
      step: 'starting',
      ip: null,
      started: now,
      ended: null,
      error: null,
    })),
  );
}

/** Runs one node's part; its failure is its line's, not the others'. */
async function perNode(progress: FleetProgress, line: NodeLine, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (e) {
    progress.update(line, { state: 'failed', error: e instanceof Error ? e.message : String(e), ended: Date.now() });
  }
}

/** Follows the node's operation to its end; false (and the line failed) unless it ended well. */
async function follow(s: Session, progress: FleetProgress, line: NodeLine, op: Operation): Promise<boolean> {
  const end = await s.follow(op, (o) => progress.update(line, { step: stepOf(o) }));
  if (SUCCEEDED_STATES.includes(end.state)) return true;
  progress.update(line, {
    state: 'failed',
    step: stepOf(end),
    error: `operation ${end.id} ended ${end.state}: ${end.error ?? ''}`,
    ended: Date.now(),
  });
  return false;
}

/** Polls the node's deployment until an initiator is logged in to its disk. */
async function waitForBoot(s: Session, progress: FleetProgress, line: NodeLine, project: string, ms: number) {
  const deadline = Date.now() + ms;
  progress.update(line, { step: 'waiting for the node to log in to its disk' });
  for (;;) {
    const d = await s.call((client) => getDeployment({ client, path: { project, node: line.node } }));
    if (d.attached) {
      return progress.update(line, { state: 'booted', step: `on ${d.target}`, ip: d.ip, ended: Date.now() });
    }
    if (Date.now() >= deadline) {
      return progress.update(line, {
        state: 'timed out',
        error: `no login to its disk within ${ms / 1000} s`,
        ip: d.ip,
        ended: Date.now(),
      });
    }
    progress.update(line, { ip: d.ip });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function finish(s: Session, progress: FleetProgress): void {
  progress.end();
  if (s.stderr.isTTY) s.stderr.write('\n');
  s.print.list(progress.lines.map(row), FLEET_COLUMNS);
  const bad = progress.lines.filter((l) => l.state === 'failed' || l.state === 'timed out');
  if (bad.length) {
    throw new CliError(
      `Error: ${bad.length} of ${progress.lines.length} node(s) failed: ${bad.map((l) => l.node).join(', ')}`,
      EXIT.FAILED,
    );
  }
}
