import type { AppConfig } from '../../config/app-config';
import { StandaloneModeOffError } from './standalone.errors';

/**
 * The standalone routes always exist, so that they are documented, but answer 409 in any other mode: with HIL,
 * HIL is where users and nodes are managed. Checked after the body's validation, before access.
 */
export function standaloneOnly(config: AppConfig): void {
  const mode = config.drivers.netIsolator;
  if (mode !== 'standalone') throw new StandaloneModeOffError(mode);
}
