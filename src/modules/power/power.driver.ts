/** What can be asked of a node's power: on, off, or off and on again. */
export const POWER_ACTIONS = ['on', 'off', 'cycle'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];
export type PowerState = 'on' | 'off';

/** Where a node's baseboard management controller answers, and as whom (standalone mode's node record). */
export interface Bmc {
  address: string;
  /** default: `[power] ipmi_user` */
  username?: string | null;
  /** default: `[power] ipmi_password`; never logged nor shown */
  password?: string | null;
}

/**
 * PowerDriver: the seam through which BMI itself switches a node's power, when no HIL does it (standalone mode,
 * and the fake isolator of the laptop mode and the tests). Callers have checked who may; a driver only acts.
 * With HIL, power goes through HIL instead (HilClient.power), which checks the caller and talks to the node's
 * BMC through obmd.
 */
export abstract class PowerDriver {
  abstract act(node: string, bmc: Bmc | null, action: PowerAction): Promise<void>;
  abstract status(node: string, bmc: Bmc | null): Promise<PowerState>;
}
