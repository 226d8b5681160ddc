import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../common/errors/domain-error';

/** Credentials were refused too often, from this address or for this user: 429 with Retry-After. */
export class TooManyFailedLoginsError extends TooManyRequestsError {
  override readonly code = 'TOO_MANY_FAILED_LOGINS';
}

export interface LoginThrottleSettings {
  /** refused logins of one user name (from any address) within the window before it is blocked */
  maxFailuresPerUser: number;
  /** refused logins from one client address (for any user) within the window before it is blocked */
  maxFailuresPerAddress: number;
  /** the window failures are counted in, in seconds */
  failureWindowSeconds: number;
  /** how long a user name or an address stays blocked once over its limit, in seconds */
  blockSeconds: number;
}

/**
 * Throttles password guessing: refused logins are counted per user name and per client address (in this
 * process, with rate-limiter-flexible's in-memory limiter); past either limit, further attempts are refused
 * with 429 before the password is checked, so that guessing costs BMI (and HIL) nothing and cannot starve the
 * worker threads other users' logins need. A user blocked by someone else's guessing can still log in from an
 * address of its own until that user's limit, which is higher, is reached too.
 */
export class LoginThrottle {
  private readonly byUser: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(
    private readonly settings: LoginThrottleSettings,
    private readonly counted: (outcome: 'refused' | 'throttled') => void = () => undefined,
  ) {
    const common = { duration: settings.failureWindowSeconds, blockDuration: settings.blockSeconds };
    this.byUser = new RateLimiterMemory({ ...common, keyPrefix: 'user', points: settings.maxFailuresPerUser });
    this.byAddress = new RateLimiterMemory({ ...common, keyPrefix: 'addr', points: settings.maxFailuresPerAddress });
  }

  /**
   * Runs `check` (which throws `isRefusal` errors for wrong credentials) unless the user or the address is
   * blocked; a refusal counts against both.
   */
  async guard<T>(
    user: string,
    address: string | undefined,
    check: () => Promise<T>,
    isRefusal: (e: unknown) => boolean,
  ): Promise<T> {
    const addr = address ?? 'unknown';
    const [u, a] = await Promise.all([this.byUser.get(user), this.byAddress.get(addr)]);
    const wait = Math.max(
      this.blockedFor(u, this.settings.maxFailuresPerUser),
      this.blockedFor(a, this.settings.maxFailuresPerAddress),
    );
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      this.counted('throttled');
      throw new TooManyFailedLoginsError(`too many failed logins: try again in ${seconds} s`, seconds);
    }
    try {
      return await check();
    } catch (e) {
      if (isRefusal(e)) {
        this.counted('refused');
        await Promise.all([this.count(this.byUser, user), this.count(this.byAddress, addr)]);
      }
      throw e;
    }
  }

  private blockedFor(res: RateLimiterRes | null, limit: number): number {
    return res && res.consumedPoints > limit ? res.msBeforeNext : 0;
  }

  private async count(limiter: RateLimiterMemory, key: string): Promise<void> {
    // past the limit, consume rejects with the block's RateLimiterRes: the block is what it was for
    await limiter.consume(key).catch(() => undefined);
  }
}
