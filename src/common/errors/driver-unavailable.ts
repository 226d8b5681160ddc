/**
 * Thrown at boot when the config selects a driver that this build does not contain yet. It stops the start
 * with a message that says which setting to change, rather than serving an API that cannot work.
 */
export class DriverUnavailableError extends Error {
  constructor(setting: string, value: string, what: string) {
    super(
      `[driver] ${setting} = ${value}: ${what} is not part of this build yet; ` +
        `set [driver] ${setting} = fake (or BMI_DRIVER_${setting.toUpperCase()}=fake) to run on the in-memory driver`,
    );
    this.name = 'DriverUnavailableError';
  }
}
