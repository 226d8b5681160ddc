import { Bmc, PowerAction, PowerDriver, PowerState } from '../power.driver';

/** Told of every power action a FakePowerDriver takes; may take its time (a test starting a VM). */
export type PowerListener = (node: string, action: PowerAction) => void | Promise<void>;

/**
 * Power kept in memory (`[driver] power = fake`): every node starts off. Tests and the laptop mode use it; a test
 * may `listen` to play the nodes' part (the boot tests start and stop QEMU machines this way).
 */
export class FakePowerDriver extends PowerDriver {
  private readonly states = new Map<string, PowerState>();
  private readonly listeners: PowerListener[] = [];

  async act(node: string, _bmc: Bmc | null, action: PowerAction): Promise<void> {
    this.states.set(node, action === 'off' ? 'off' : 'on');
    for (const listener of this.listeners) await listener(node, action);
  }

  async status(node: string): Promise<PowerState> {
    return this.states.get(node) ?? 'off';
  }

  /** Calls `listener` after each action; returns what removes it. */
  listen(listener: PowerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
