import { Injectable, Logger } from '@nestjs/common';
import { InternalError } from '../../common/errors/domain-error';
import { V1 } from '../../common/http/v1-face';
import { watchOperations } from '../../common/orchestration/journal';
import { OperationRow, TypeOrmOperationJournal } from './operation-journal.service';

/** Where a launched operation is polled (the Location of a 202). */
export function operationPath(op: OperationRow): string {
  return `/${V1}/projects/${op.project}/operations/${op.id}`;
}

/**
 * Runs a long operation (an import, a copy, a snapshot: each flattens an image) in the background for an API
 * that answers "202, poll this operation": `launch` resolves with the operation as soon as the journal has
 * recorded it, and rejects with the error when the work failed before (a bad name, a conflict, no access), so
 * that such failures are still answered directly. The work then goes on whatever becomes of the request; the
 * journal keeps its steps, progress and end.
 */
@Injectable()
export class OperationLauncher {
  private readonly logger = new Logger('Operations');

  constructor(private readonly journal: TypeOrmOperationJournal) {}

  async launch(work: () => Promise<unknown>): Promise<OperationRow> {
    let announce: (id: string) => void = () => undefined;
    const begun = new Promise<string>((resolve) => (announce = resolve));
    const run = watchOperations((id) => announce(id), work);
    // its failure after the answer is the journal's (and the saga's log's) to tell
    run.catch((e: unknown) => this.logger.debug(`a launched operation failed: ${String(e)}`));
    const id = await Promise.race([
      begun,
      run.then(() => {
        throw new InternalError('The operation ended without being recorded');
      }),
    ]);
    const row = await this.journal.get(id);
    if (!row) throw new InternalError(`Operation ${id} was recorded but cannot be read back`);
    return row;
  }
}
