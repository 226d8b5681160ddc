/**
 * IscsiTargetDriver: the only seam through which BMI manages iSCSI targets (tgtd in production).
 *
 * A target exports one RBD image of the configured pool as one LUN. Target names are chosen by IscsiService
 * (bare Ceph names as in the original, or IQNs); the driver stores and reports them verbatim.
 * - addTarget of a name that exists: TargetExistsError;
 * - removeTarget of a name that does not exist: TargetNotFoundError;
 * - the tool itself failing: IscsiCommandError.
 */
export abstract class IscsiTargetDriver {
  abstract addTarget(target: IscsiTarget): Promise<void>;
  abstract removeTarget(name: string): Promise<void>;
  abstract listTargets(): Promise<IscsiTarget[]>;
}

export interface IscsiTarget {
  /** the target name the initiator logs in to */
  name: string;
  /** the RBD image (in the configured pool) behind LUN 1 */
  image: string;
}
