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

/**
 * Fencing of a dead instance: before recovery undoes an instance's work, its session with the storage is cut
 * (Ceph: blocklisted), so that it cannot go on writing and the images it had open (their watches) can be
 * removed at once. The storage driver that can fence says so at start (`use`); without one, nothing is fenced
 * and recovery waits for the storage to let go by itself.
 */
@Injectable()
export class Fencing {
  /** this instance's storage session, recorded with its operations */
  identity: string | null = null;
  private fencer: ((identity: string) => Promise<void>) | null = null;

  use(identity: string, fence: (identity: string) => Promise<void>): void {
    this.identity = identity;
    this.fencer = fence;
  }

  /** Fences another instance's session; false when there is nothing to fence it with. */
  async fence(identity: string): Promise<boolean> {
    if (!this.fencer || identity === this.identity) return false;
    await this.fencer(identity);
    return true;
  }
}

@Global()
@Module({ providers: [SagaActions, Fencing], exports: [SagaActions, Fencing] })
export class SagaActionsModule {}
