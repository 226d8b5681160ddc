import { Logger } from '@nestjs/common';
import {
  CommandResult,
  CommandRunner,
  EXIT_NOT_STARTED,
  EXIT_TIMED_OUT,
  formatArgv,
} from '../../../common/process/command-runner';
import { isCidr } from '../../../common/net';
import { TGT_NAME } from '../../../common/validation/names';
import { IscsiTarget, IscsiTargetDriver } from '../iscsi-target.driver';
import { IscsiCommandError, IscsiUnavailableError, TargetExistsError, TargetNotFoundError } from '../iscsi.errors';
import { parseTargetShow, TgtShowParseError, TgtShowTarget } from './tgt-show.parser';

export interface TgtDriverOptions {
  /** tgtd's control port (`tgtadm -C`); 0 is tgtadm's default socket */
  controlPort: number;
  /** the RBD pool the exported images live in */
  pool: string;
  /** ceph.conf and client id tgtd's rbd backing store connects with (bsopts conf=…;id=…) */
  cephConf: string;
  cephId: string;
  /** the LUN number the image is exported as (tgtd's LUN 0 is its controller) */
  lun: number;
  /** time one tgtadm call may take; default 30 s */
  timeoutMs?: number;
  /** the tgtadm binary; default `tgtadm` from PATH */
  tgtadm?: string;
}

type TgtResult = CommandResult & { argv: string[] };

/** exit status of tgtadm when tgtd does not answer on the control socket (ENOTCONN) */
const EXIT_NOT_CONNECTED = 107;
/** how often addTarget picks a new tid when another tgtadm user took the one it chose */
const TID_ATTEMPTS = 5;

/**
 * IscsiTargetDriver on a running tgtd, through `tgtadm` argv calls only (no conf files, no tgt-admin). A target
 * is made in three steps: the target with the lowest free tid, LUN `lun` on the RBD image (bs-type rbd), and
 * the ACL (`ALL`, or the given addresses and initiator names). A step that fails deletes the half-made target
 * before the error is thrown. Calls that change or read targets run one at a time, so that two of BMI's own
 * requests never pick the same tid; another tgtadm user that takes a tid first makes addTarget pick again.
 *
 * tgtd keeps its targets in memory only: after a tgtd restart they are gone until BMI's reconciler makes them
 * again (TargetReconciler in the images module).
 */
export class TgtIscsiTargetDriver extends IscsiTargetDriver {
  private readonly logger = new Logger(TgtIscsiTargetDriver.name);
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly tgtadm: string;

  constructor(
    private readonly runner: CommandRunner,
    private readonly options: TgtDriverOptions,
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tgtadm = options.tgtadm ?? 'tgtadm';
  }

  async addTarget(target: IscsiTarget): Promise<void> {
    assertTgtName(target.name, 'target name');
    if (!target.image || target.image.includes('/')) throw new IscsiCommandError(`bad image name "${target.image}"`);
    for (const who of target.initiators ?? []) {
      if (!isCidr(who)) assertTgtName(who, 'initiator name');
    }
    return this.serially(async () => {
      for (let attempt = 1; ; attempt++) {
        const existing = await this.show();
        if (existing.some((t) => t.name === target.name)) throw new TargetExistsError(target.name);
        const tid = lowestFreeTid(existing);
        const made = await this.tgt([
          '--mode',
          'target',
          '--op',
          'new',
          '--tid',
          String(tid),
          '--targetname',
          target.name,
        ]);
        if (made.exitCode === 0) return this.complete(tid, target);
        // someone else's tgtadm took this tid (or this name) since the show: look again
        if (/already exists/.test(made.stderr) && attempt < TID_ATTEMPTS) continue;
        throw this.failure(made, `create target ${target.name} (tid ${tid})`);
      }
    });
  }

  async removeTarget(name: string): Promise<void> {
    return this.serially(async () => {
      const found = (await this.show()).find((t) => t.name === name);
      if (!found) throw new TargetNotFoundError(name);
      const r = await this.tgt(['--mode', 'target', '--op', 'delete', '--force', '--tid', String(found.tid)]);
      if (r.exitCode === 0) return;
      if (/can't find the target/.test(r.stderr)) throw new TargetNotFoundError(name);
      throw this.failure(r, `delete target ${name} (tid ${found.tid})`);
    });
  }

  async listTargets(): Promise<IscsiTarget[]> {
    const shown = await this.serially(() => this.show());
    return shown.map((t) => this.toTarget(t)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** LUN and ACL on a fresh target; any failure deletes the target again, then throws. */
  private async complete(tid: number, target: IscsiTarget): Promise<void> {
    const { pool, cephConf, cephId, lun } = this.options;
    const steps: { what: string; args: string[] }[] = [
      {
        what: `add LUN ${lun} (rbd ${pool}/${target.image}) to target ${target.name}`,
        args: [
          '--mode',
          'logicalunit',
          '--op',
          'new',
          '--tid',
          String(tid),
          '--lun',
          String(lun),
          '--bstype',
          'rbd',
          '--backing-store',
          `${pool}/${target.image}`,
          '--bsopts',
          `conf=${cephConf};id=${cephId}`,
        ],
      },
      ...bindings(target.initiators).map(([flag, value]) => ({
        what: `allow ${value} on target ${target.name}`,
        args: ['--mode', 'target', '--op', 'bind', '--tid', String(tid), flag, value],
      })),
    ];
    for (const step of steps) {
      let error: unknown;
      try {
        const r = await this.tgt(step.args);
        if (r.exitCode === 0) continue;
        error = this.failure(r, step.what);
      } catch (e) {
        error = e;
      }
      await this.deleteHalfMade(tid, target.name);
      throw error;
    }
  }

  private async deleteHalfMade(tid: number, name: string): Promise<void> {
    try {
      const r = await this.tgt(['--mode', 'target', '--op', 'delete', '--force', '--tid', String(tid)]);
      if (r.exitCode === 0) return;
      this.logger.error(
        `target ${name} (tid ${tid}) is left half-made: tgtadm delete exited ${r.exitCode}: ${r.stderr.trim()}`,
      );
    } catch (e) {
      this.logger.error(`target ${name} (tid ${tid}) is left half-made: ${(e as Error).message}`);
    }
  }

  private async show(): Promise<TgtShowTarget[]> {
    const r = await this.tgt(['--mode', 'target', '--op', 'show']);
    if (r.exitCode !== 0) throw this.failure(r, 'list targets');
    try {
      return parseTargetShow(r.stdout);
    } catch (e) {
      if (!(e instanceof TgtShowParseError)) throw e;
      this.logger.error(e.message);
      throw new IscsiCommandError('tgtadm printed a target list BMI cannot read', { stdout: r.stdout }, { cause: e });
    }
  }

  private toTarget(t: TgtShowTarget): IscsiTarget {
    const path = t.luns.find((l) => l.lun === this.options.lun)?.backingStorePath ?? '';
    const prefix = `${this.options.pool}/`;
    const image = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    return t.acl.includes('ALL') ? { name: t.name, image } : { name: t.name, image, initiators: [...t.acl] };
  }

  /** tgtadm on our control port with the iscsi LLD; the exit code is the caller's to judge. */
  private async tgt(args: string[]): Promise<TgtResult> {
    const argv = [this.tgtadm, '-C', String(this.options.controlPort), '--lld', 'iscsi', ...args];
    return { ...(await this.runner.run(argv, { check: false, timeoutMs: this.timeoutMs })), argv };
  }

  /** The error for a failed call; its exit code and stderr go to the log, not into the client's message. */
  private failure(r: TgtResult, what: string): Error {
    const details = { argv: r.argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    const stderr = r.stderr.trim().replace(/\s*\n\s*/g, ' | ');
    this.logger.error(`${what} failed: \`${formatArgv(r.argv)}\` exited ${r.exitCode}: ${stderr}`);
    if (r.exitCode === EXIT_NOT_CONNECTED || r.exitCode === EXIT_NOT_STARTED || r.exitCode === EXIT_TIMED_OUT) {
      return new IscsiUnavailableError(
        `the iSCSI target daemon is not reachable (tgtd on control port ${this.options.controlPort})`,
        details,
      );
    }
    return new IscsiCommandError(`iSCSI target operation failed: ${what}`, details);
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The lowest tid no target uses (tgtd's tids start at 1). */
export function lowestFreeTid(targets: readonly { tid: number }[]): number {
  const used = new Set(targets.map((t) => t.tid));
  let tid = 1;
  while (used.has(tid)) tid++;
  return tid;
}

/** tgtadm bind flags for an ACL: ALL when absent, else one per address or initiator name. */
export function bindings(initiators: readonly string[] | undefined): [string, string][] {
  if (initiators === undefined) return [['--initiator-address', 'ALL']];
  return initiators.map((who) => [isCidr(who) ? '--initiator-address' : '--initiator-name', who]);
}

function assertTgtName(name: string, what: string): void {
  if (!TGT_NAME.test(name)) {
    throw new IscsiCommandError(`${what} "${name}" has characters tgtd refuses (only letters, digits, ".", ":", "-")`);
  }
}
