import { IscsiTarget, IscsiTargetDriver } from '../iscsi-target.driver';
import { TargetExistsError, TargetNotFoundError } from '../iscsi.errors';

/** An in-memory target table that refuses duplicates and unknown names, as tgtd does. */
export class FakeIscsiTargetDriver extends IscsiTargetDriver {
  private readonly targets = new Map<string, IscsiTarget>();

  /** initiators logged in, per target (tests set them: the fake has no network) */
  readonly sessions = new Map<string, number>();

  async ping(): Promise<void> {}

  async addTarget(target: IscsiTarget): Promise<void> {
    if (this.targets.has(target.name)) throw new TargetExistsError(target.name);
    this.targets.set(target.name, copy(target));
  }

  async removeTarget(name: string): Promise<void> {
    if (!this.targets.delete(name)) throw new TargetNotFoundError(name);
  }

  async listTargets(): Promise<IscsiTarget[]> {
    return [...this.targets.values()]
      .map((t) => copy(t, this.sessions.get(t.name)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * A target as stored and reported: `initiators` only when the target has an ACL, `chap` (its user, never the
 * secret, as tgtd shows it) only when it has an account.
 */
function copy(t: IscsiTarget, sessions = 0): IscsiTarget {
  return {
    name: t.name,
    image: t.image,
    ...(t.initiators === undefined ? {} : { initiators: [...t.initiators] }),
    ...(t.chap === undefined ? {} : { chap: { user: t.chap.user } }),
    ...(sessions ? { sessions } : {}),
  };
}
