export type LockMode = 'shared' | 'exclusive';

export interface LockRequest {
  key: string;
  mode: LockMode;
}

interface Waiter {
  mode: LockMode;
  grant: () => void;
}

interface KeyState {
  readers: number;
  writer: boolean;
  queue: Waiter[];
}

/**
 * In-process reader/writer locks by name, granted first come, first served. An operation takes every lock it
 * needs at once through `run`, which sorts the keys so that two operations can never wait on each other.
 * Operations on different resources never wait; an operation that changes a resource waits for the ones
 * reading it, and the other way round.
 */
export class KeyedLock {
  private readonly states = new Map<string, KeyState>();

  async run<T>(requests: LockRequest[], fn: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const r of normalize(requests)) releases.push(await this.acquire(r.key, r.mode));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Keys currently held or waited for (for tests and diagnostics). */
  busyKeys(): string[] {
    return [...this.states.keys()].sort();
  }

  private acquire(key: string, mode: LockMode): Promise<() => void> {
    const state = this.states.get(key) ?? { readers: 0, writer: false, queue: [] };
    this.states.set(key, state);
    return new Promise((resolve) => {
      state.queue.push({ mode, grant: () => resolve(() => this.release(key, mode)) });
      this.pump(key, state);
    });
  }

  private release(key: string, mode: LockMode): void {
    const state = this.states.get(key);
    if (!state) return;
    if (mode === 'exclusive') state.writer = false;
    else state.readers -= 1;
    this.pump(key, state);
  }

  private pump(key: string, state: KeyState): void {
    while (state.queue.length) {
      const next = state.queue[0];
      const free = next.mode === 'exclusive' ? !state.writer && state.readers === 0 : !state.writer;
      if (!free) break;
      state.queue.shift();
      if (next.mode === 'exclusive') state.writer = true;
      else state.readers += 1;
      next.grant();
    }
    if (!state.writer && state.readers === 0 && state.queue.length === 0) this.states.delete(key);
  }
}

/** One request per key, exclusive when any request for it is, in key order. */
export function normalize(requests: LockRequest[]): LockRequest[] {
  const byKey = new Map<string, LockMode>();
  for (const r of requests) {
    if (byKey.get(r.key) !== 'exclusive') byKey.set(r.key, r.mode);
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, mode]) => ({ key, mode }));
}
