import { IscsiTarget, IscsiTargetDriver } from '../iscsi-target.driver';
import { TargetExistsError, TargetNotFoundError } from '../iscsi.errors';

/** An in-memory target table that refuses duplicates and unknown names, as tgtd does. */
export class FakeIscsiTargetDriver extends IscsiTargetDriver {
  private readonly targets = new Map<string, string>();

  async addTarget(target: IscsiTarget): Promise<void> {
    if (this.targets.has(target.name)) throw new TargetExistsError(target.name);
    this.targets.set(target.name, target.image);
  }

  async removeTarget(name: string): Promise<void> {
    if (!this.targets.delete(name)) throw new TargetNotFoundError(name);
  }

  async listTargets(): Promise<IscsiTarget[]> {
    return [...this.targets].map(([name, image]) => ({ name, image })).sort((a, b) => a.name.localeCompare(b.name));
  }
}
