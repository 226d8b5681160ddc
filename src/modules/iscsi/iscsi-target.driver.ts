/**
 * IscsiTargetDriver: the only seam through which BMI manages iSCSI targets (tgtd in production).
 *
 * A target exports one RBD image of the configured pool as one LUN. Target names are chosen by IscsiService
 * (bare Ceph names as in the original, or IQNs); the driver stores and reports them verbatim.
 * - addTarget of a name that exists: TargetExistsError; a target that cannot be completed is removed again;
 * - removeTarget of a name that does not exist: TargetNotFoundError;
 * - the tool itself failing: IscsiCommandError (IscsiUnavailableError when the daemon cannot be reached).
 */
export abstract class IscsiTargetDriver {
  abstract addTarget(target: IscsiTarget): Promise<void>;
  abstract removeTarget(name: string): Promise<void>;
  abstract listTargets(): Promise<IscsiTarget[]>;
  /** Resolves when the target daemon answers (readiness), without listing its targets. */
  abstract ping(): Promise<void>;
}

export interface IscsiTarget {
  /** the target name the initiator logs in to */
  name: string;
  /** the RBD image (in the configured pool) behind the LUN */
  image: string;
  /**
   * Who may log in (the target's ACL). Absent: any initiator. Otherwise each entry is an IPv4/IPv6 address or
   * CIDR, or an initiator name (IQN); an empty list lets no one in.
   */
  initiators?: string[];
  /**
   * The CHAP account an initiator must log in with: given when a target is made; a listed target names the
   * account's user only (daemons do not show secrets). Absent: no CHAP.
   */
  chap?: { user: string; secret?: string };
  /** how many initiators are logged in right now (listed targets that have any) */
  sessions?: number;
}
