export interface CallGateOptions {
  /** calls let through at once; the others wait their turn, in order */
  maxConcurrent: number;
  /** after an outage, calls fail at once for this long; then one call is let through to probe */
  cooldownMs: number;
  /** whether a call's error means the service is down (not merely that the call was refused) */
  isOutage: (error: unknown) => boolean;
  /** the error a call gets while the service is known down */
  downError: (cause: unknown, retryInMs: number) => Error;
  now?: () => number;
}

/**
 * In front of a slow dependency (Ceph): at most `maxConcurrent` calls in flight, so that calls hanging on a
 * dead cluster cannot take every worker thread the process shares with its database and password hashing;
 * and, once a call found the dependency down, every call fails at once for `cooldownMs` instead of hanging
 * in turn (a circuit breaker). After the cooldown the next call is let through: its success closes the
 * breaker, another outage opens it again. Hand-written: the two dozen lines cost less than a dependency.
 */
export class CallGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private downUntil = 0;
  private lastOutage: unknown;
  private readonly now: () => number;

  constructor(private readonly options: CallGateOptions) {
    this.now = options.now ?? Date.now;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.failIfDown();
    if (this.active >= this.options.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      this.failIfDown();
      const result = await fn();
      this.downUntil = 0;
      return result;
    } catch (e) {
      if (this.options.isOutage(e)) {
        this.lastOutage = e;
        this.downUntil = this.now() + this.options.cooldownMs;
      }
      throw e;
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** calls in flight and waiting, for tests and diagnostics */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  private failIfDown(): void {
    const left = this.downUntil - this.now();
    if (left > 0) throw this.options.downError(this.lastOutage, left);
  }
}
