import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { SagaActions } from '../../common/orchestration/actions';
import { Step } from '../../common/orchestration/saga';
import { IscsiTarget, IscsiTargetDriver } from './iscsi-target.driver';
import { TargetExistsError, TargetNotFoundError } from './iscsi.errors';

/**
 * Target naming and bookkeeping over the driver. The same name goes into the node's iPXE `sanboot` URI.
 *
 * Naming (`[iscsi] target_prefix`):
 * - no prefix (the default): the target of an RBD image is named after it, `<uid>img<id>`, the original's
 *   scheme (reference §5.1), so that a site's existing boot scripts keep working;
 * - a prefix such as `iqn.2026-11.org.bmi:`: `<prefix><image>`, sanitised to what tgtd and RFC 3720 accept:
 *   lower-cased, and every character outside `[a-z0-9.:-]` (an `_` in the uid) becomes `-`. Within one BMI the
 *   mapping cannot collide: every image name is the same uid followed by `img<id>`.
 *
 * With `[iscsi] initiator_acl`, a target lets in only the initiator named `<target>:initiator` (initiatorName),
 * the name the node's boot script logs in with; otherwise any initiator.
 *
 * Exports and removals come as saga steps too, undone by the actions `iscsi.export` and `iscsi.unexport`,
 * which are idempotent (a target already there, or already gone, is fine).
 */
export interface IscsiEndpoint {
  target: string;
  /** `<ip>:<port>` */
  portal: string;
  lun: number;
  uri: string;
}

@Injectable()
export class IscsiService {
  constructor(
    private readonly driver: IscsiTargetDriver,
    private readonly config: AppConfig,
    actions: SagaActions,
  ) {
    actions.register({
      'iscsi.export': ({ image }) => this.ensureExported(String(image)),
      'iscsi.unexport': ({ image }) => this.ensureUnexported(String(image)),
    });
  }

  /** Resolves when the target daemon answers (readiness). */
  ping(): Promise<void> {
    return this.driver.ping();
  }

  /** Step: export the image over iSCSI; undo removes the target. */
  exportStep(image: string): Step {
    return {
      name: `export ${image} over iSCSI`,
      run: async () => void (await this.export(image)),
      undo: { type: 'iscsi.unexport', args: { image } },
    };
  }

  /** Step: remove the image's target, which may be gone already; undo makes it again. */
  unexportStep(image: string): Step {
    return {
      name: `remove the iSCSI target of ${image}`,
      run: () => this.ensureUnexported(image),
      undo: { type: 'iscsi.export', args: { image } },
    };
  }

  private async ensureExported(image: string): Promise<void> {
    try {
      await this.export(image);
    } catch (e) {
      if (!(e instanceof TargetExistsError)) throw e;
    }
  }

  private async ensureUnexported(image: string): Promise<void> {
    try {
      await this.unexport(image);
    } catch (e) {
      if (!(e instanceof TargetNotFoundError)) throw e;
    }
  }

  targetName(image: string): string {
    const prefix = this.config.iscsi.targetPrefix;
    if (!prefix) return image;
    return `${prefix}${image}`.toLowerCase().replace(/[^a-z0-9.:-]/g, '-');
  }

  /** The initiator name the target of this image lets in, or null when targets let any initiator in. */
  initiatorName(image: string): string | null {
    return this.config.iscsi.initiatorAcl ? `${this.targetName(image)}:initiator` : null;
  }

  /** The target that should export this image: its name, the image, and its ACL. */
  targetFor(image: string): IscsiTarget {
    const initiator = this.initiatorName(image);
    const name = this.targetName(image);
    return initiator === null ? { name, image } : { name, image, initiators: [initiator] };
  }

  /** Where an initiator finds the image's target: the portal, the LUN and the iSCSI URI (RFC 4173, as iPXE takes it). */
  endpoint(image: string): IscsiEndpoint {
    const { ip, port, lun } = this.config.iscsi;
    const target = this.targetName(image);
    return { target, portal: `${ip}:${port}`, lun, uri: `iscsi:${ip}:tcp:${port}:${lun}:${target}` };
  }

  async export(image: string): Promise<string> {
    const target = this.targetFor(image);
    await this.driver.addTarget(target);
    return target.name;
  }

  async unexport(image: string): Promise<void> {
    await this.driver.removeTarget(this.targetName(image));
  }

  async isExported(image: string): Promise<boolean> {
    const name = this.targetName(image);
    return (await this.driver.listTargets()).some((t) => t.name === name);
  }

  list(): Promise<IscsiTarget[]> {
    return this.driver.listTargets();
  }
}
