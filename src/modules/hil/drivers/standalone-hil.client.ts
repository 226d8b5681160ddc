import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CallGate } from '../../../common/concurrency/call-gate';
import { HilClient, HilNode } from '../hil.client';
import { Credentials } from '../../../common/auth/caller';
import { HilAuthenticationError, HilNodeNotFoundError, HilProjectNotFoundError } from '../hil.errors';
import { canAccess, NO_PROJECT_ACCESS, powerRefusal } from '../hil-directory';
import type { PowerAction, PowerDriver, PowerState } from '../../power/power.driver';
import {
  burnVerification,
  DEFAULT_COST,
  hashPassword,
  needsRehash,
  ScryptCost,
  verifyPassword,
} from '../../standalone/password-hash';
import { DirectoryNode, DirectoryUser, StandaloneDirectory } from '../../standalone/standalone-directory';

export interface StandaloneHilClientOptions {
  /**
   * How long a successful password check is remembered, so that the several checks of one request (and the
   * requests of one CLI run) do not each pay for scrypt. What is kept is an HMAC of the password under a key
   * that exists only in this process, together with the stored hash it matched: changing the password or
   * deleting the user ends it at once. 0 turns it off.
   */
  verifiedTtlMs?: number;
  /** at most this many remembered checks (oldest dropped first) */
  maxVerified?: number;
  now?: () => number;
  /** the cost of password hashes: a user's hash made at a lower cost is redone at its next successful login */
  cost?: ScryptCost;
  /** told when a hash could not be redone (the login itself succeeds) */
  onRehashFailure?: (user: string, error: unknown) => void;
  /** password hashes computed at once (each holds a worker thread and 128 MiB at N = 2^17); default 4 */
  maxHashing?: number;
  /** switches the nodes' power, through the BMC each node's record names */
  power?: PowerDriver;
}

/**
 * The HIL port on BMI's own database, for sites without HIL (`[driver] net_isolator = standalone`). Same rules
 * as HIL (../shared/docs/hil-contract.md), so that ProjectAccess works unchanged:
 * - unknown user or wrong password: HilAuthenticationError (401);
 * - a node: unknown → HilNodeNotFoundError (404); owned by a project the caller is not in (and not admin) →
 *   HilAuthenticationError('You do not have access to the required project.'); free → any authenticated user;
 * - a project's nodes: unknown project → HilProjectNotFoundError (404, checked before membership, as HIL does);
 *   needs membership or admin;
 * - isAdmin: the user's admin flag;
 * - power: HIL's rule (members of the node's project and admins; a free node, admins), then the power driver.
 */
export class StandaloneHilClient extends HilClient {
  private readonly ttlMs: number;
  private readonly maxVerified: number;
  private readonly now: () => number;
  private readonly cost: ScryptCost;
  private readonly key = randomBytes(32);
  /** at most maxHashing scrypt runs at once: the others wait their turn, so a flood cannot exhaust memory */
  private readonly hashing: CallGate;
  private readonly verified = new Map<string, { storedHash: string; digest: Buffer; until: number }>();

  constructor(
    private readonly directory: StandaloneDirectory,
    private readonly options: StandaloneHilClientOptions = {},
  ) {
    super();
    this.ttlMs = options.verifiedTtlMs ?? 60_000;
    this.maxVerified = options.maxVerified ?? 1000;
    this.now = options.now ?? Date.now;
    this.cost = options.cost ?? DEFAULT_COST;
    this.hashing = new CallGate({
      maxConcurrent: options.maxHashing ?? 4,
      cooldownMs: 0,
      isOutage: () => false,
      downError: (cause) => (cause instanceof Error ? cause : new Error(String(cause))),
    });
  }

  async getNode(c: Credentials, node: string): Promise<HilNode> {
    const user = await this.authenticate(c);
    const n = await this.directory.findNode(node);
    if (!n) throw new HilNodeNotFoundError(node);
    if (n.project !== null && !canAccess(user, n.project)) {
      throw new HilAuthenticationError(NO_PROJECT_ACCESS);
    }
    return { name: n.name, project: n.project, nics: n.nics.map((nic) => ({ ...nic })) };
  }

  async listProjectNodes(c: Credentials, project: string): Promise<string[]> {
    const user = await this.authenticate(c);
    if (!(await this.directory.projectExists(project))) throw new HilProjectNotFoundError(project);
    if (!canAccess(user, project)) throw new HilAuthenticationError(NO_PROJECT_ACCESS);
    return this.directory.listNodes(project);
  }

  async power(c: Credentials, node: string, action: PowerAction): Promise<void> {
    const n = await this.mayPower(c, node);
    await this.powerDriver().act(n.name, n.bmc ?? null, action);
  }

  async powerStatus(c: Credentials, node: string): Promise<PowerState> {
    const n = await this.mayPower(c, node);
    return this.powerDriver().status(n.name, n.bmc ?? null);
  }

  /** The node, when the caller may switch its power (HIL's rule); refused otherwise. */
  private async mayPower(c: Credentials, node: string): Promise<DirectoryNode> {
    const user = await this.authenticate(c);
    const n = await this.directory.findNode(node);
    if (!n) throw new HilNodeNotFoundError(node);
    const refusal = powerRefusal(user, n.project);
    if (refusal) throw new HilAuthenticationError(refusal);
    return n;
  }

  private powerDriver(): PowerDriver {
    if (!this.options.power) throw new Error('the standalone directory was given no power driver');
    return this.options.power;
  }

  async isAdmin(c: Credentials): Promise<boolean> {
    return (await this.authenticate(c)).isAdmin;
  }

  /** The user, when the password is right; HilAuthenticationError otherwise (unknown user included). */
  private async authenticate(c: Credentials): Promise<DirectoryUser> {
    const user = await this.directory.findUser(c.username);
    if (!user) {
      await this.hashing.run(() => burnVerification(c.password, this.cost));
      throw new HilAuthenticationError();
    }
    if (this.recentlyVerified(user, c.password)) return user;
    const cheaper = needsRehash(user.passwordHash, this.cost);
    if (!(await this.hashing.run(() => verifyPassword(c.password, user.passwordHash)))) {
      // a hash made at a lower cost is refused as slowly as an unknown user: no telling users apart by time
      if (cheaper) await this.hashing.run(() => burnVerification(c.password, this.cost));
      throw new HilAuthenticationError();
    }
    const current = cheaper ? await this.rehash(user, c.password) : user;
    this.remember(current, c.password);
    return current;
  }

  /**
   * The user with its password hashed again at the configured cost, now that the password is known to be
   * right; the user as it was when that cannot be written (the login succeeds either way).
   */
  private async rehash(user: DirectoryUser, password: string): Promise<DirectoryUser> {
    try {
      const next = await this.hashing.run(() => hashPassword(password, this.cost));
      if (await this.directory.replacePasswordHash(user.name, user.passwordHash, next)) {
        return { ...user, passwordHash: next };
      }
    } catch (e) {
      this.options.onRehashFailure?.(user.name, e);
    }
    return user;
  }

  private digest(username: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(username).update('\0').update(password).digest();
  }

  private recentlyVerified(user: DirectoryUser, password: string): boolean {
    const hit = this.verified.get(user.name);
    if (!hit) return false;
    if (hit.until <= this.now() || hit.storedHash !== user.passwordHash) {
      this.verified.delete(user.name);
      return false;
    }
    return timingSafeEqual(hit.digest, this.digest(user.name, password));
  }

  private remember(user: DirectoryUser, password: string): void {
    if (this.ttlMs <= 0) return;
    this.verified.delete(user.name);
    while (this.verified.size >= this.maxVerified) {
      const oldest = this.verified.keys().next().value;
      if (oldest === undefined) break;
      this.verified.delete(oldest);
    }
    this.verified.set(user.name, {
      storedHash: user.passwordHash,
      digest: this.digest(user.name, password),
      until: this.now() + this.ttlMs,
    });
  }
}
