import type { Caller } from '../../common/auth/caller';
import type { ProjectEntity } from '../projects/project.entity';
import type { HilNode } from '../hil/hil.client';

/**
 * What a route needs of its caller, always acting from `project` (a BMI project, 404 otherwise):
 * - `member`: access to the project in HIL (a member, or a HIL admin);
 * - `admin`: a BMI admin (a HIL admin, or a member of `[bmi] admin_project`);
 * - `authenticated`: only credentials that HIL (or the standalone directory) accepts.
 */
export type AccessLevel = 'member' | 'admin' | 'authenticated';

/**
 * A caller whose access to a project has been checked at the route. Services take one instead of checking
 * access themselves; the only question left to them is whether a node is the project's, which depends on HIL
 * at the moment of acting and is therefore asked under the operation's lock.
 */
export class ProjectScope {
  constructor(
    readonly caller: Caller,
    readonly project: ProjectEntity,
    readonly level: AccessLevel,
    private readonly findOwnedNode: (name: string) => Promise<HilNode>,
  ) {}

  /** The node, when HIL says it belongs to this project; refused when it is free or someone else's. */
  ownedNode(name: string): Promise<HilNode> {
    return this.findOwnedNode(name);
  }
}
