import { Global, Injectable, Module } from '@nestjs/common';

/** A JSON value an action's arguments may hold (they are written to the operation journal). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * A durable description of something to do: a handler type (`rbd.remove`) and its arguments. The undo of a
 * step, and the step itself when it cannot be undone, are actions, so that they survive in the journal and a
 * recovery after a crash can run them. Every handler is idempotent and works whatever part of its step ran.
 */
export interface Action {
  type: string;
  args: { [key: string]: Json };
}

export type ActionHandler = (args: Action['args']) => Promise<void>;

/**
 * The handlers of every action, registered by the module that owns them (storage, image rows, iSCSI targets,
 * boot files) when it starts. Sagas undo with them, and recovery rolls interrupted operations back or forward.
 */
@Injectable()
export class SagaActions {
  private readonly handlers = new Map<string, ActionHandler>();

  register(handlers: Record<string, ActionHandler>): void {
    for (const [type, handler] of Object.entries(handlers)) {
      if (this.handlers.has(type)) throw new Error(`action ${type} is registered twice`);
      this.handlers.set(type, handler);
    }
  }

  async run(action: Action): Promise<void> {
    const handler = this.handlers.get(action.type);
    if (!handler) throw new Error(`no handler for action ${action.type}`);
    await handler(action.args);
  }
}

@Global()
@Module({ providers: [SagaActions], exports: [SagaActions] })
export class SagaActionsModule {}
