import type { Credentials } from '../../common/auth/caller';
import type { PowerAction, PowerState } from '../power/power.driver';

/**
 * HilClient: the only seam through which BMI asks the network isolator (HIL) who may do what. Every call is
 * made with the caller's own credentials. Implementations translate HIL's answers into BMI's errors:
 * - bad credentials, unknown user, no access: HilAuthenticationError (401);
 * - unknown node: HilNodeNotFoundError (404); unknown project: HilProjectNotFoundError (404);
 * - HIL unreachable or timing out: HilUnavailableError (503); HIL 5xx or a body that is not JSON:
 *   HilBadResponseError (502).
 */
export abstract class HilClient {
  /** GET /v0/node/<node>: a free node is visible to any authenticated user. */
  abstract getNode(credentials: Credentials, node: string): Promise<HilNode>;
  /** GET /v0/project/<project>/nodes: succeeds only for members of the project and admins. */
  abstract listProjectNodes(credentials: Credentials, project: string): Promise<string[]>;
  /** GET /v0/projects succeeds only for HIL admins; false for an authenticated non-admin. */
  abstract isAdmin(credentials: Credentials): Promise<boolean>;
  /**
   * POST /v0/node/<node>/power_on|power_off|power_cycle: the node's project members (a free node: admins) switch
   * its power; HIL hands the request to the node's obmd (a 307), or refuses while its OBM is off (409).
   */
  abstract power(credentials: Credentials, node: string, action: PowerAction): Promise<void>;
  /** GET /v0/node/<node>/power_status, with the same rules. */
  abstract powerStatus(credentials: Credentials, node: string): Promise<PowerState>;
  /** Resolves when the isolator can be reached (readiness); one that lives in BMI's database always can. */
  async ping(): Promise<void> {}
}

export interface HilNic {
  label: string;
  /** as HIL stores it: case kept verbatim, not validated */
  macaddr: string;
}

export interface HilNode {
  name: string;
  project: string | null;
  nics: HilNic[];
}
