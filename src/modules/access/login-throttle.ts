import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../common/errors/domain-error';

/** Credentials were refused too often (for this user, from this address, or both): 429 with Retry-After. */
export class TooManyFailedLoginsError extends TooManyRequestsError {
  override readonly code = 'TOO_MANY_FAILED_LOGINS';
}

export interface LoginThrottleSettings {
  /** refused logins of one user name from one address within the window before that pair is blocked */
  maxFailuresPerUserAndAddress: number;
  /** refused logins from one client address (any user) within the window before the address is blocked */
  maxFailuresPerAddress: number;
  /** refused logins of one user name (any address) within the window before the name is blocked */
  maxFailuresPerUser: number;
  /** the window failures are counted in, in seconds */
  failureWindowSeconds: number;
  /** how long a user, an address or a pair stays blocked once over its limit, in seconds */
  blockSeconds: number;
}

/**
 * Throttles password guessing, in this process, with rate-limiter-flexible's in-memory limiters. Three counts:
 * a user name from one address (low: one guesser), an address whatever the name (a guesser trying names), and
 * a user name whatever the address (high: many guessers at one account, which then blocks its owner too: the
 * price of capping distributed guessing). Each check takes a point from all three before the password is
 * checked, so that a burst of parallel guesses cannot slip past the limit; a good password gives them back.
 * Past a limit, requests are refused with 429 before any password is checked, so that guessing costs BMI (and
 * HIL) nothing and cannot starve the worker threads other users' logins need.
 */
export class LoginThrottle {
  private readonly limiters: { limiter: RateLimiterMemory; key: (user: string, addr: string) => string }[];

  constructor(
    settings: LoginThrottleSettings,
    private readonly counted: (outcome: 'refused' | 'throttled') => void = () => undefined,
  ) {
    const limiter = (keyPrefix: string, points: number) =>
      new RateLimiterMemory({
        keyPrefix,
        points,
        duration: settings.failureWindowSeconds,
        blockDuration: settings.blockSeconds,
      });
    this.limiters = [
      // a user name and an address cannot run into each other: a NUL is in neither
      { limiter: limiter('pair', settings.maxFailuresPerUserAndAddress), key: (u, a) => `${u}\0${a}` },
      { limiter: limiter('addr', settings.maxFailuresPerAddress), key: (_u, a) => a },
      { limiter: limiter('user', settings.maxFailuresPerUser), key: (u) => u },
    ];
  }

  /**
   * Runs `check` (which throws `isRefusal` errors for wrong credentials) unless the user, the address or the
   * pair is blocked. A refusal keeps the points taken; anything else gives them back.
   */
  async guard<T>(
    user: string,
    address: string | undefined,
    check: () => Promise<T>,
    isRefusal: (e: unknown) => boolean,
  ): Promise<T> {
    const keys = this.limiters.map((l) => l.key(user, address ?? 'unknown'));
    const taken = await Promise.allSettled(this.limiters.map((l, i) => l.limiter.consume(keys[i])));
    const refused = taken.filter((t): t is PromiseRejectedResult => t.status === 'rejected');
    if (refused.length) {
      await this.giveBack(keys, taken);
      const wait = Math.max(...refused.map((r) => (r.reason instanceof RateLimiterRes ? r.reason.msBeforeNext : 1000)));
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      this.counted('throttled');
      throw new TooManyFailedLoginsError(`too many failed logins: try again in ${seconds} s`, seconds);
    }
    try {
      const result = await check();
      await this.giveBack(keys, taken);
      return result;
    } catch (e) {
      if (isRefusal(e)) this.counted('refused');
      else await this.giveBack(keys, taken);
      throw e;
    }
  }

  /** Returns the points taken from the limiters that gave one. */
  private async giveBack(keys: string[], taken: PromiseSettledResult<unknown>[]): Promise<void> {
    await Promise.all(
      this.limiters.map((l, i) => (taken[i].status === 'fulfilled' ? l.limiter.reward(keys[i], 1) : undefined)),
    );
  }
}
