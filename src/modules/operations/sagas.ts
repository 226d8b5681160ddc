import { Injectable } from '@nestjs/common';
import { SagaActions } from '../../common/orchestration/actions';
import { OperationIntent, OperationJournal } from '../../common/orchestration/journal';
import { runSaga, Saga } from '../../common/orchestration/saga';
import type { ProjectScope } from '../access/access-level';

/** Runs a multi-step operation as a journaled saga: its intent recorded first, then each step, then its end. */
@Injectable()
export class Sagas {
  constructor(
    private readonly journal: OperationJournal,
    private readonly actions: SagaActions,
  ) {}

  /**
   * `sagas.of(scope, { disk: 'web1' }).run('create_disk', async (s) => { … await s.step(…) … })`: the operation,
   * on behalf of `scope`, written top to bottom.
   */
  of(
    scope: ProjectScope,
    args: OperationIntent['args'],
  ): { run: <T>(kind: string, body: (s: Saga) => Promise<T>) => Promise<T> } {
    return {
      run: async (kind, body) => {
        const op = await this.journal.begin({
          kind,
          project: scope.project.name,
          actor: scope.caller.credentials.username,
          args,
        });
        return runSaga(kind, this.actions, op, body);
      },
    };
  }
}
