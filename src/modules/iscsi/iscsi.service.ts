import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { isUniqueViolation } from '../../database/unique-violation';
import { DbWriteLock } from '../../common/concurrency/locks';
import { IscsiCredentialEntity } from './iscsi-credential.entity';
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
 * Access (`[iscsi] chap`, on by default): each target has CHAP credentials and an initiator name of its own,
 * random, made when it is first exported and kept in the database (`iscsi_credential`), so that a target made
 * again after a tgtd restart lets in the same node; the node's boot script logs in with them. Without CHAP,
 * `[iscsi] initiator_acl` lets in only the initiator named `<target>:initiator`, and otherwise any initiator.
 *
 * Exports and removals come as saga steps too, undone by the actions `iscsi.export` and `iscsi.unexport`,
 * which are idempotent (a target already there, or already gone, is fine).
 */
/** What a node's boot script logs in to a target with. */
export interface TargetAccess {
  /** the initiator name to log in as, or null for iPXE's own */
  initiator: string | null;
  /** the CHAP user and secret, or null when the target has none */
  chap: { user: string; secret: string } | null;
}

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random CHAP secret: 16 letters and digits (about 95 bits), the longest every initiator takes. */
function randomSecret(): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return out;
}

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
    @InjectRepository(IscsiCredentialEntity) private readonly credentials: Repository<IscsiCredentialEntity>,
    private readonly dbLock: DbWriteLock,
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

  /**
   * Step: export an image no node boots from yet (a new disk, an image being mounted) over iSCSI, with CHAP
   * credentials made for it if it has none; undo removes the target.
   */
  exportStep(image: string): Step {
    return {
      name: `export ${image} over iSCSI`,
      run: async () => {
        if (this.config.iscsi.chap) await this.giveCredentials(image);
        await this.export(image);
      },
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

  /** The initiator name the target of this image lets in without CHAP ([iscsi] initiator_acl), or null. */
  initiatorName(image: string): string | null {
    return this.config.iscsi.initiatorAcl ? `${this.targetName(image)}:initiator` : null;
  }

  /**
   * What a node logs in to the image's target with: its CHAP credentials and initiator name, as kept in the
   * database. A target exported before CHAP was on has none until the target reconciler gives it some.
   */
  async accessFor(image: string): Promise<TargetAccess> {
    if (!this.config.iscsi.chap) return { initiator: this.initiatorName(image), chap: null };
    const row = await this.credentials.findOneBy({ target: this.targetName(image) });
    return row ? access(row) : { initiator: this.initiatorName(image), chap: null };
  }

  /** The target that should export this image: its name, the image, its ACL and CHAP account. */
  async targetFor(image: string): Promise<IscsiTarget> {
    return (await this.targetsFor([image]))[0];
  }

  /**
   * The targets that should export these images, in order, with one read of the credentials. An image that has
   * none (exported before CHAP was on: its nodes' scripts log in without) keeps the target it had, until the
   * target reconciler gives it credentials (giveCredentials) together with its scripts.
   */
  async targetsFor(images: string[]): Promise<IscsiTarget[]> {
    if (!this.config.iscsi.chap) {
      return images.map((image) => {
        const name = this.targetName(image);
        const initiator = this.initiatorName(image);
        return initiator === null ? { name, image } : { name, image, initiators: [initiator] };
      });
    }
    const names = images.map((image) => this.targetName(image));
    const known = new Map<string, IscsiCredentialEntity>();
    for (let i = 0; i < names.length; i += 500) {
      for (const row of await this.credentials.findBy({ target: In(names.slice(i, i + 500)) }))
        known.set(row.target, row);
    }
    return images.map((image, i) => {
      const row = known.get(names[i]);
      if (!row) {
        const initiator = this.initiatorName(image);
        return initiator === null ? { name: names[i], image } : { name: names[i], image, initiators: [initiator] };
      }
      return {
        name: names[i],
        image,
        initiators: [row.initiator],
        chap: { user: row.chapUser, secret: row.chapSecret },
      };
    });
  }

  /** Makes the image's target credentials if it has none (idempotent); its target is made with them next. */
  async giveCredentials(image: string): Promise<void> {
    const target = this.targetName(image);
    if (!(await this.credentials.findOneBy({ target }))) await this.makeCredentials(target);
  }

  private async makeCredentials(target: string): Promise<IscsiCredentialEntity> {
    const row: IscsiCredentialEntity = {
      target,
      chapUser: `bmi-${randomBytes(8).toString('hex')}`,
      chapSecret: randomSecret(),
      initiator: `iqn.2026-11.org.bmi.node:${randomBytes(12).toString('hex')}`,
    };
    try {
      await this.dbLock.run(() => this.credentials.insert(row));
      return row;
    } catch (e) {
      // made at the same time by another instance's pass: theirs it is
      if (!isUniqueViolation(e)) throw e;
      return this.credentials.findOneByOrFail({ target });
    }
  }

  /** Where an initiator finds the image's target: the portal, the LUN and the iSCSI URI (RFC 4173, as iPXE takes it). */
  endpoint(image: string): IscsiEndpoint {
    const { ip, port, lun } = this.config.iscsi;
    const target = this.targetName(image);
    return { target, portal: `${ip}:${port}`, lun, uri: `iscsi:${ip}:tcp:${port}:${lun}:${target}` };
  }

  async export(image: string): Promise<string> {
    const target = await this.targetFor(image);
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

function access(row: IscsiCredentialEntity): TargetAccess {
  return { initiator: row.initiator, chap: { user: row.chapUser, secret: row.chapSecret } };
}
