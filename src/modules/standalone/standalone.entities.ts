import { StandaloneMembershipEntity } from './standalone-membership.entity';
import { StandaloneNicEntity } from './standalone-nic.entity';
import { StandaloneNodeEntity } from './standalone-node.entity';
import { StandaloneUserEntity } from './standalone-user.entity';

/** The tables of standalone mode (migration 1764200000000-standalone). */
export const STANDALONE_ENTITIES = [
  StandaloneUserEntity,
  StandaloneMembershipEntity,
  StandaloneNodeEntity,
  StandaloneNicEntity,
];
