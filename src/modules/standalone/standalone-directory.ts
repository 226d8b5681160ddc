import type { Bmc } from '../power/power.driver';

/**
 * StandaloneDirectory: what the standalone HIL driver reads from BMI's own database (users, memberships,
 * nodes with their NICs, projects), as plain values. The only seam between StandaloneHilClient and storage;
 * TypeOrmStandaloneDirectory implements it on the standalone_* tables and the project table.
 */
export abstract class StandaloneDirectory {
  /** The user, with the names of the projects it is a member of; null when there is no such user. */
  abstract findUser(name: string): Promise<DirectoryUser | null>;
  /** The node, its project (null when free) and its NICs in registration order; null when unknown. */
  abstract findNode(name: string): Promise<DirectoryNode | null>;
  /** Whether BMI knows the project (the project table). */
  abstract projectExists(name: string): Promise<boolean>;
  /** The names of the nodes owned by `project`, or of the free nodes when `project` is null, sorted. */
  abstract listNodes(project: string | null): Promise<string[]>;
  /**
   * Replaces the user's password hash with `next` (the same password, hashed at a higher cost), only if it is
   * still `current`: a password changed meanwhile is kept. Whether it was replaced.
   */
  abstract replacePasswordHash(name: string, current: string, next: string): Promise<boolean>;
}

export interface DirectoryUser {
  name: string;
  /** see password-hash.ts */
  passwordHash: string;
  isAdmin: boolean;
  projects: string[];
}

export interface DirectoryNode {
  name: string;
  project: string | null;
  /** MACs are stored lower-cased */
  nics: { label: string; macaddr: string }[];
  /** its BMC, when an admin recorded one */
  bmc?: Bmc | null;
}
