import { Logger } from '@nestjs/common';
import {
  CommandResult,
  CommandRunner,
  EXIT_NOT_STARTED,
  EXIT_TIMED_OUT,
  formatArgv,
  redactArgv,
} from '../../../common/process/command-runner';
import { KeyedLock } from '../../../common/concurrency/keyed-lock';
import { CallObserver, stopwatch } from '../../../common/observability/metrics';
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
  /** told the time of every tgtadm run */
  observe?: CallObserver;
  /**
   * other BMI instances manage targets in this tgtd too: a target is looked up in a fresh listing before it is
   * deleted (its caller holds the image's lock, so nobody else changes that target meanwhile), never by a tid
   * the map may have kept from before another instance deleted the target and made it again elsewhere
   */
  shared?: boolean;
}

type TgtResult = CommandResult & { argv: string[] };

/** exit status of tgtadm when tgtd does not answer on the control socket (ENOTCONN) */
const EXIT_NOT_CONNECTED = 107;
/** how often addTarget picks a new tid when another tgtadm user took the one it chose */
const TID_ATTEMPTS = 5;

/**
 * IscsiTargetDriver on a running tgtd, through `tgtadm` argv calls only (no conf files, no tgt-admin). A target
 * is made in three steps: the target at a free tid, LUN `lun` on the RBD image (bs-type rbd), and the ACL
 * (`ALL`, or the given addresses and initiator names). A step that fails deletes the half-made target before
 * the error is thrown.
 *
 * The driver knows its targets: one listing (`--op show`) when it is first used, and again whenever a listing is
 * asked for, fills a map of name to tid that every target it makes or removes keeps up to date. So making a
 * target costs its three calls and removing one a single call, whatever the number of targets, and calls on
 * different targets run at the same time (tgtd takes them in turn on its control socket); calls on one name run
 * one at a time. A tid is claimed in memory before its `new` call, so that two of BMI's own requests never pick
 * the same one. What the map cannot know, tgtd answers: a tid or a name another tgtadm user took makes `new`
 * fail with "already exists", and a target that vanished (tgtd restarted) makes `delete` fail with "can't find
 * the target"; either way the driver lists the targets again and decides on what tgtd really has. The one
 * thing it cannot see is another tgtadm user deleting one of BMI's targets and reusing its tid for a target of
 * its own: tgtd's targets are BMI's to manage.
 *
 * tgtd keeps its targets in memory only: after a tgtd restart they are gone until BMI's reconciler makes them
 * again (TargetReconciler in the images module).
 */
export class TgtIscsiTargetDriver extends IscsiTargetDriver {
  private readonly logger = new Logger(TgtIscsiTargetDriver.name);
  private readonly timeoutMs: number;
  private readonly tgtadm: string;
  /** name -> tid of the targets tgtd has, as far as this driver knows; null until the first listing */
  private tids: Map<string, number> | null = null;
  /** target name -> the CHAP account bound to it, as far as this driver knows (made here, or listed) */
  private readonly accounts = new Map<string, string>();
  private loading: Promise<Map<string, number>> | null = null;
  /** the changes made while each listing under way runs */
  private readonly listings = new Set<[string, number | null][]>();
  /** tids a call under way is making or deleting (counted: a delete and an add may hold the same one) */
  private readonly claimed = new Map<number, number>();
  private readonly names = new KeyedLock();

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
    if (target.chap) {
      if (!CHAP_USER.test(target.chap.user)) throw new IscsiCommandError('bad CHAP user name');
      if (!target.chap.secret || !CHAP_SECRET.test(target.chap.secret)) throw new IscsiCommandError('bad CHAP secret');
    }
    return this.oneAtATime(target.name, async () => {
      // a name the map holds is looked up again: tgtd may have lost it (restarted) since
      if ((await this.known()).has(target.name) && (await this.relist()).has(target.name)) {
        throw new TargetExistsError(target.name);
      }
      // tids refused to this call stay claimed until it ends: a listing that raced the refusal cannot offer them again
      const tried: number[] = [];
      try {
        for (let attempt = 1; ; attempt++) {
          const tid = this.claimTid(await this.known());
          tried.push(tid);
          const made = await this.tgt(newTarget(tid, target.name));
          if (made.exitCode === 0) {
            this.note(target.name, tid);
            try {
              await this.complete(tid, target);
            } catch (e) {
              this.note(target.name, null); // deleted again by complete (or logged as half-made)
              throw e;
            }
            return;
          }
          if (!/already exists/.test(made.stderr))
            throw this.failure(made, `create target ${target.name} (tid ${tid})`);
          // another tgtadm user took this tid, or this name: ask tgtd which
          if ((await this.relist()).has(target.name)) throw new TargetExistsError(target.name);
          if (attempt >= TID_ATTEMPTS) throw this.failure(made, `create target ${target.name} (tid ${tid})`);
        }
      } finally {
        for (const tid of tried) this.release(tid);
      }
    });
  }

  async removeTarget(name: string): Promise<void> {
    return this.oneAtATime(name, async () => {
      // a name the map lacks, or a tid tgtd no longer has (it restarted), is looked up again once: the target
      // may have been made by another instance, before this one started, or again at another tid
      // shared: a listing of its own, begun now (one already under way may have begun before the caller's lock)
      let tids = this.options.shared ? await this.list().then(() => this.tids!) : await this.known();
      for (let fresh = Boolean(this.options.shared); ; fresh = true) {
        const tid = tids.get(name);
        if (tid !== undefined) {
          // held while the delete is on its way, so that no add of this process takes the tid meanwhile (a
          // listing may drop the name from the map before tgtd has deleted it)
          this.claim(tid);
          try {
            const r = await this.tgt(['--mode', 'target', '--op', 'delete', '--force', '--tid', String(tid)]);
            if (r.exitCode === 0) {
              this.note(name, null);
              return await this.deleteAccount(name);
            }
            if (!/can't find the target/.test(r.stderr)) throw this.failure(r, `delete target ${name} (tid ${tid})`);
          } finally {
            this.release(tid);
          }
        }
        if (fresh) throw new TargetNotFoundError(name);
        tids = await this.relist();
      }
    });
  }

  async listTargets(): Promise<IscsiTarget[]> {
    const shown = await this.list();
    return shown.map((t) => this.toTarget(t)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async ping(): Promise<void> {
    const r = await this.tgt(['--mode', 'sys', '--op', 'show']);
    if (r.exitCode !== 0) throw this.failure(r, 'ask tgtd how it is');
  }

  /** The map of known targets, listing them first if this driver has not yet. */
  private known(): Promise<Map<string, number>> {
    return this.tids ? Promise.resolve(this.tids) : this.relist();
  }

  /** Lists the targets again and returns the map (one listing at a time; callers meanwhile share it). */
  private relist(): Promise<Map<string, number>> {
    this.loading ??= this.list()
      .then(() => this.tids!)
      .finally(() => (this.loading = null));
    return this.loading;
  }

  /**
   * `--op show`, parsed, and the map rebuilt from it; changes this driver made while the listing ran are
   * applied on top, as the listing may have missed them.
   */
  private async list(): Promise<TgtShowTarget[]> {
    const meanwhile: [string, number | null][] = [];
    this.listings.add(meanwhile);
    let shown: TgtShowTarget[];
    try {
      shown = await this.show();
    } finally {
      this.listings.delete(meanwhile);
    }
    this.tids = new Map(shown.map((t) => [t.name, t.tid]));
    for (const t of shown) {
      const account = incomingAccount(t);
      if (account) this.accounts.set(t.name, account);
    }
    for (const [name, tid] of meanwhile) this.note(name, tid);
    return shown;
  }

  /** The lowest tid that no known target uses and no call under way has claimed; claimed for the caller. */
  private claimTid(known: Map<string, number>): number {
    const used = new Set([...known.values(), ...this.claimed.keys()]);
    let tid = 1;
    while (used.has(tid)) tid++;
    this.claim(tid);
    return tid;
  }

  private claim(tid: number): void {
    this.claimed.set(tid, (this.claimed.get(tid) ?? 0) + 1);
  }

  private release(tid: number): void {
    const n = (this.claimed.get(tid) ?? 1) - 1;
    if (n > 0) this.claimed.set(tid, n);
    else this.claimed.delete(tid);
  }

  /** Records that tgtd now has the target at this tid (or, for null, no longer has it). */
  private note(name: string, tid: number | null): void {
    const tids = (this.tids ??= new Map());
    if (tid === null) tids.delete(name);
    else tids.set(name, tid);
    for (const listing of this.listings) listing.push([name, tid]);
  }

  private oneAtATime<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.names.run([{ key: name, mode: 'exclusive' }], fn);
  }

  /** LUN and ACL on a fresh target; any failure deletes the target again, then throws. */
  private async complete(tid: number, target: IscsiTarget): Promise<void> {
    const { pool, cephConf, cephId, lun } = this.options;
    const steps: { what: string; args: string[]; again?: string[] }[] = [
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
    if (target.chap) {
      const { user, secret } = target.chap;
      steps.push(
        {
          what: `make the CHAP account of target ${target.name}`,
          args: ['--mode', 'account', '--op', 'new', '--user', user, '--password', secret!],
          // an account of that name left by a target half made before is replaced
          again: ['--mode', 'account', '--op', 'delete', '--user', user],
        },
        {
          what: `require the CHAP account on target ${target.name}`,
          args: ['--mode', 'account', '--op', 'bind', '--tid', String(tid), '--user', user],
        },
      );
      this.accounts.set(target.name, user);
    }
    for (const step of steps) {
      let error: unknown;
      try {
        let r = await this.tgt(step.args);
        if (r.exitCode !== 0 && step.again && /exist/i.test(r.stderr)) {
          await this.tgt(step.again);
          r = await this.tgt(step.args);
        }
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
      if (r.exitCode === 0) return await this.deleteAccount(name);
      this.logger.error(
        `target ${name} (tid ${tid}) is left half-made: tgtadm delete exited ${r.exitCode}: ${r.stderr.trim()}`,
      );
    } catch (e) {
      this.logger.error(`target ${name} (tid ${tid}) is left half-made: ${(e as Error).message}`);
    }
  }

  /** Deletes the CHAP account of a deleted target, if it had one; one left behind is only logged. */
  private async deleteAccount(target: string): Promise<void> {
    const user = this.accounts.get(target);
    if (user === undefined) return;
    this.accounts.delete(target);
    const r = await this.tgt(['--mode', 'account', '--op', 'delete', '--user', user]);
    if (r.exitCode !== 0) this.logger.warn(`the CHAP account of deleted target ${target} is left: ${r.stderr.trim()}`);
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
    const account = incomingAccount(t);
    return {
      name: t.name,
      image,
      ...(t.acl.includes('ALL') ? {} : { initiators: [...t.acl] }),
      ...(account ? { chap: { user: account } } : {}),
      ...(t.sessions.length ? { sessions: t.sessions.length } : {}),
    };
  }

  /** tgtadm on our control port with the iscsi LLD; the exit code is the caller's to judge. */
  private async tgt(args: string[]): Promise<TgtResult> {
    const argv = [this.tgtadm, '-C', String(this.options.controlPort), '--lld', 'iscsi', ...args];
    // `<mode> <op>`, e.g. "target new", "logicalunit new": the label of the call's time
    const call = `${args[args.indexOf('--mode') + 1]} ${args[args.indexOf('--op') + 1]}`;
    const seconds = stopwatch();
    let r: CommandResult;
    try {
      r = await this.runner.run(argv, { check: false, timeoutMs: this.timeoutMs });
    } catch (e) {
      this.options.observe?.(call, seconds(), 'error');
      throw e;
    }
    this.options.observe?.(call, seconds(), r.exitCode === 0 ? 'ok' : 'error');
    return { ...r, argv };
  }

  /** The error for a failed call; its exit code and stderr go to the log, not into the client's message. */
  private failure(r: TgtResult, what: string): Error {
    // the CHAP secret of an account call never reaches a log or a client
    const argv = redactArgv(r.argv);
    const details = { argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    const stderr = r.stderr.trim().replace(/\s*\n\s*/g, ' | ');
    this.logger.error(`${what} failed: \`${formatArgv(argv)}\` exited ${r.exitCode}: ${stderr}`);
    if (r.exitCode === EXIT_NOT_CONNECTED || r.exitCode === EXIT_NOT_STARTED || r.exitCode === EXIT_TIMED_OUT) {
      return new IscsiUnavailableError(
        `the iSCSI target daemon is not reachable (tgtd on control port ${this.options.controlPort})`,
        details,
      );
    }
    return new IscsiCommandError(`iSCSI target operation failed: ${what}`, details);
  }
}

/** CHAP user names and secrets BMI makes: plain tokens tgtd and iPXE take as they are. */
const CHAP_USER = /^[A-Za-z0-9._:-]{1,64}$/;
const CHAP_SECRET = /^[A-Za-z0-9]{12,64}$/;

/** The account an initiator logs in with (tgtd lists an outgoing one as `NAME (outgoing)`). */
function incomingAccount(t: TgtShowTarget): string | undefined {
  return t.accounts.find((a) => !a.endsWith(' (outgoing)'));
}

function newTarget(tid: number, name: string): string[] {
  return ['--mode', 'target', '--op', 'new', '--tid', String(tid), '--targetname', name];
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
