import { Command, InvalidArgumentError } from 'commander';
import { Render, table } from '../format';
import { Session } from '../session';

const STATES = ['running', 'done', 'rolled_back', 'failed', 'interrupted', 'rolled_forward'];

interface OperationRow {
  id: string;
  kind: string;
  project: string | null;
  actor: string | null;
  state: string;
  args: Record<string, unknown>;
  steps: { name: string; state: string }[];
  error: string | null;
  started: string;
}

/** One line per operation: what it acted on, how far it got, and why it stopped. */
const operationRows: Render = (result) => {
  const ops = (result.kind === 'value' && Array.isArray(result.value) ? result.value : []) as OperationRow[];
  return table(
    ['Started', 'Id', 'Operation', 'Project', 'By', 'On', 'State', 'Steps done', 'Error'],
    ops.map((o) => [
      o.started,
      o.id,
      o.kind,
      o.project ?? '',
      o.actor ?? '',
      Object.entries(o.args)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
      o.state,
      `${o.steps.filter((s) => s.state === 'done').length}`,
      o.error ?? '',
    ]),
  );
};

function state(value: string): string {
  if (!STATES.includes(value)) throw new InvalidArgumentError(`expected one of ${STATES.join(', ')}.`);
  return value;
}

function limit(value: string): string {
  if (!/^[1-9]\d{0,3}$/.test(value) || Number(value) > 1000) throw new InvalidArgumentError('expected 1 to 1000.');
  return value;
}

interface DriftRow {
  kind: string;
  subject: string;
  detail: string;
  repair?: string;
  repaired?: boolean;
  error?: string;
}

/** One line per drift, with what --fix does or did about it. */
const driftRows: Render = (result) => {
  const report = (result.kind === 'value' ? result.value : {}) as { drift?: DriftRow[]; fixed?: boolean };
  const drift = report.drift ?? [];
  if (!drift.length) return 'No drift: the database, the pool, the targets and the boot files agree.';
  return table(
    ['Kind', 'Subject', 'Detail', report.fixed ? 'Repaired' : 'Repair'],
    drift.map((d) => [
      d.kind,
      d.subject,
      d.detail,
      report.fixed
        ? d.repair
          ? d.repaired
            ? 'yes'
            : `no: ${d.error ?? ''}`
          : 'reported only'
        : (d.repair ?? 'report only'),
    ]),
  );
};

/** `bmi op ls`: the operation journal; `bmi reconcile`: the consistency check (admin). */
export function addOperationCommands(program: Command, s: Session): void {
  const op = program.command('op').description('the journal of multi-step operations (admin)');
  op.command('ls')
    .description('list operations, newest first, with how far each got')
    .option('--state <state>', `only operations in this state (${STATES.join(', ')})`, state)
    .option('--limit <n>', 'at most this many (default 100)', limit)
    .action((o: { state?: string; limit?: string }) =>
      s.send('POST', 'list_operations/', { project: s.adminProject(), state: o.state, limit: o.limit }, operationRows),
    );
  program
    .command('reconcile')
    .description('compare the database, the pool, the iSCSI targets and the boot files (admin)')
    .option(
      '--fix',
      'also repair what is safe: recover interrupted operations, remove orphans BMI made, make missing targets',
    )
    .action((o: { fix?: boolean }) =>
      s.send('POST', 'reconcile/', { project: s.adminProject(), fix: o.fix ? 'true' : undefined }, driftRows),
    );
}
