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
 * in turn (a circuit breaker). After the cooldown one call is let through to probe while the others still
 * fail at once: its answer closes the breaker, another outage opens it again. Hand-written: a few dozen lines
 * cost less than a dependency.
 */
export class CallGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** 0: closed; otherwise the breaker is open until then (and half-open after) */
  private downUntil = 0;
  private probing = false;
  private lastOutage: unknown;
  private readonly now: () => number;

  constructor(private readonly options: CallGateOptions) {
    this.now = options.now ?? Date.now;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.admit(false);
    if (this.active >= this.options.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      // checked again: the breaker may have opened while this call waited (a refusal changes nothing)
      const probe = this.admit(true);
      try {
        const result = await fn();
        this.downUntil = 0;
        return result;
      } catch (e) {
        // only what the dependency answered counts
        if (this.options.isOutage(e)) {
          this.lastOutage = e;
          this.downUntil = this.now() + this.options.cooldownMs;
        } else if (probe) {
          this.downUntil = 0;
        }
        throw e;
      } finally {
        if (probe) this.probing = false;
      }
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** calls in flight and waiting, for tests and diagnostics */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /**
   * Throws while the breaker is open, and after the cooldown while another call probes; otherwise, for a call
   * about to run (`claim`), returns whether it becomes the probe (the breaker was open, its cooldown is over).
   */
  private admit(claim: boolean): boolean {
    if (this.downUntil === 0) return false;
    const left = this.downUntil - this.now();
    if (left > 0 || this.probing) throw this.options.downError(this.lastOutage, Math.max(left, 0));
    if (!claim) return false;
    this.probing = true;
    return true;
  }
}
