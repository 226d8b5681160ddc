import { Command, InvalidArgumentError } from 'commander';
import {
  getOperation,
  listAllOperations,
  listAudit,
  listOperations,
  type OperationState,
  reconcile,
} from '@bmi/client';
import { Session, OPERATION_COLUMNS, operationRow } from '../session';

const STATES: OperationState[] = ['running', 'done', 'rolled_back', 'failed', 'interrupted', 'rolled_forward'];

function state(value: string): OperationState {
  if (!(STATES as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${STATES.join(', ')}.`);
  return value as OperationState;
}

function limit(value: string): number {
  if (!/^[1-9]\d{0,3}$/.test(value) || Number(value) > 1000) throw new InvalidArgumentError('expected 1 to 1000.');
  return Number(value);
}

/** The columns `op ls` shows besides the default ones of an operation. */
const OP_LS_COLUMNS = ['started', 'id', 'kind', 'project', 'actor', 'args', 'state', 'progress', 'steps_done', 'error'];
const OP_SHOW_COLUMNS = [...OPERATION_COLUMNS, 'actor', 'args', 'steps_done', 'updated'];
const DRIFT_COLUMNS = ['kind', 'subject', 'detail', 'repair', 'repaired', 'error'];
const AUDIT_COLUMNS = ['at', 'actor', 'project', 'action', 'resource', 'status', 'result', 'operation', 'request_id'];

/**
 * `bmi op …`: the operation journal; `bmi reconcile`: the consistency check (admin); `bmi audit`: the audit
 * trail (admin).
 */
export function addOperationCommands(program: Command, s: Session): void {
  const op = program.command('op').description('the journal of multi-step operations');
  op.command('ls')
    .hook('preAction', () => s.print.check(OP_LS_COLUMNS))
    .description("list operations, newest first, with how far each got: a project's (its members), or all (admin)")
    .option('--project <project>', "only this project's operations (a member of it may list them)")
    .option('--state <state>', `only operations in this state (${STATES.join(', ')})`, state)
    .option('--limit <n>', 'at most this many (default 100)', limit)
    .action(async (o: { project?: string; state?: OperationState; limit?: number }) => {
      const query = { state: o.state, limit: o.limit ?? 100 };
      const page = await s.call((client) =>
        o.project === undefined
          ? listAllOperations({ client, query })
          : listOperations({ client, path: { project: o.project }, query }),
      );
      s.print.list(page.items.map(operationRow), OP_LS_COLUMNS);
    });
  op.command('show')
    .hook('preAction', () => s.print.check(OP_SHOW_COLUMNS))
    .description('show one operation of a project, with its steps')
    .argument('<project>')
    .argument('<id>')
    .action(async (project: string, id: string) =>
      s.print.one(
        operationRow(await s.call((client) => getOperation({ client, path: { project, operation: id } }))),
        OP_SHOW_COLUMNS,
      ),
    );
  op.command('wait')
    .hook('preAction', () => s.print.check(OPERATION_COLUMNS))
    .description('wait until an operation of a project ends, showing its progress; fails unless it ended done')
    .argument('<project>')
    .argument('<id>')
    .action((project: string, id: string) =>
      s.operation((client) => getOperation({ client, path: { project, operation: id } }), true),
    );
  program
    .command('audit')
    .hook('preAction', () => s.print.check(AUDIT_COLUMNS))
    .description('list the mutations asked of BMI, newest first: who, from which project, what, the answer (admin)')
    .option('--project <project>', 'only what was asked from this project')
    .option('--actor <user>', 'only what this user asked')
    .option('--action <operation>', 'only this operation, e.g. deleteDisk')
    .option('--limit <n>', 'at most this many (default 100)', limit)
    .action(async (o: { project?: string; actor?: string; action?: string; limit?: number }) => {
      const query = { project: o.project, actor: o.actor, action: o.action, limit: o.limit ?? 100 };
      const page = await s.call((client) => listAudit({ client, query }));
      s.print.list(
        page.items.map((r) => ({
          ...r,
          resource: Object.entries(r.resource)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        })),
        AUDIT_COLUMNS,
      );
    });
  program
    .command('reconcile')
    .hook('preAction', () => s.print.check(DRIFT_COLUMNS))
    .description('compare the database, the pool, the iSCSI targets and the boot files (admin)')
    .option(
      '--fix',
      'also repair what is safe: recover interrupted operations, remove orphans BMI made, make missing targets',
    )
    .action(async (o: { fix?: boolean }) => {
      const report = await s.call((client) => reconcile({ client, body: { fix: o.fix === true } }));
      s.print.list(
        report.drift.map((d) => ({ ...d })),
        DRIFT_COLUMNS,
      );
    });
}
