import { Injectable } from '@nestjs/common';
import { OperationIntent, OperationJournal } from '../../common/orchestration/journal';
import { runSaga, Step } from '../../common/orchestration/saga';
import type { ProjectScope } from '../access/access-level';

/** Runs a multi-step operation as a journaled saga: its intent recorded first, then each step, then its end. */
@Injectable()
export class Sagas {
  constructor(private readonly journal: OperationJournal) {}

  /** `sagas.of(scope, { disk: 'web1' }).run('create_disk', steps)`: the operation, on behalf of `scope`. */
  of(scope: ProjectScope, args: OperationIntent['args']): { run: (kind: string, steps: Step[]) => Promise<void> } {
    return {
      run: async (kind, steps) => {
        const op = await this.journal.begin({
          kind,
          project: scope.project.name,
          actor: scope.caller.credentials.username,
          args,
        });
        await runSaga(kind, steps, op);
      },
    };
  }
}
