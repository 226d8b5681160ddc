import type { AppConfig } from '../../config/app-config';

/**
 * The drivers this build contains, per `[driver]` setting. A driver that is not built yet stops the start with a
 * message saying what to set.
 */
const BUILT: Record<'fs' | 'iscsi' | 'net_isolator', readonly string[]> = {
  fs: ['ceph', 'fake'],
  iscsi: ['tgt', 'fake'],
  net_isolator: ['hil', 'standalone', 'fake'],
};

const WHAT: Record<string, string> = {};

/** Thrown when the config selects a driver that this build does not contain. */
export class DriverUnavailableError extends Error {
  constructor(readonly missing: { setting: string; value: string }[]) {
    super(
      missing
        .map(
          ({ setting, value }) =>
            `[driver] ${setting} = ${value}: ${WHAT[`${setting}=${value}`] ?? 'this driver'} is not part of this ` +
            `build yet; set [driver] ${setting} = fake (or BMI_DRIVER_${setting.toUpperCase()}=fake) to run on ` +
            'the in-memory driver',
        )
        .join('\n'),
    );
    this.name = 'DriverUnavailableError';
  }

  static of(setting: string, value: string): DriverUnavailableError {
    return new DriverUnavailableError([{ setting, value }]);
  }
}

/** Every selected driver this build lacks, in one error; checked before the app is built. */
export function assertDriversBuilt(config: AppConfig): void {
  const chosen = { fs: config.drivers.fs, iscsi: config.drivers.iscsi, net_isolator: config.drivers.netIsolator };
  const missing = (Object.keys(chosen) as (keyof typeof chosen)[])
    .filter((setting) => !BUILT[setting].includes(chosen[setting]))
    .map((setting) => ({ setting, value: chosen[setting] }));
  if (missing.length) throw new DriverUnavailableError(missing);
}
