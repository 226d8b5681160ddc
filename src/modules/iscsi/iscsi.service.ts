import { Injectable } from '@nestjs/common';
import { IscsiTarget, IscsiTargetDriver } from './iscsi-target.driver';
import { TargetNotFoundError } from './iscsi.errors';

/**
 * Target naming and bookkeeping over the driver. The target of an RBD image is named after it (the
 * original's scheme, reference §5.1), so the same string goes into the node's iPXE `sanboot` URI.
 */
@Injectable()
export class IscsiService {
  constructor(private readonly driver: IscsiTargetDriver) {}

  targetName(image: string): string {
    return image;
  }

  async export(image: string): Promise<string> {
    const name = this.targetName(image);
    await this.driver.addTarget({ name, image });
    return name;
  }

  async unexport(image: string): Promise<void> {
    await this.driver.removeTarget(this.targetName(image));
  }

  /** Removes the target if it is there; true when it was. */
  async unexportIfPresent(image: string): Promise<boolean> {
    try {
      await this.unexport(image);
      return true;
    } catch (e) {
      if (e instanceof TargetNotFoundError) return false;
      throw e;
    }
  }

  async isExported(image: string): Promise<boolean> {
    const name = this.targetName(image);
    return (await this.driver.listTargets()).some((t) => t.name === name);
  }

  list(): Promise<IscsiTarget[]> {
    return this.driver.listTargets();
  }
}
