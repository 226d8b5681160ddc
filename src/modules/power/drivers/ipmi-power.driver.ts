import { CommandFailedError, CommandRunner } from '../../../common/process/command-runner';
import { Bmc, PowerAction, PowerDriver, PowerState } from '../power.driver';
import { NoBmcError, PowerFailedError } from '../power.errors';

export interface IpmiOptions {
  /** ipmitool's -I: lanplus (IPMI 2.0, the default) or lan */
  interface: string;
  /** the BMC account of nodes whose record names none */
  username: string;
  password: string;
  /** the time one ipmitool call may take, in ms */
  timeoutMs: number;
}

/**
 * Power through each node's BMC with `ipmitool` (argv only). The password goes in the environment
 * (`-E`, IPMI_PASSWORD), never on the command line, where any local user could read it. A cycle of a node that
 * is off powers it on: BMCs refuse `chassis power cycle` then.
 */
export class IpmiPowerDriver extends PowerDriver {
  constructor(
    private readonly runner: CommandRunner,
    private readonly options: IpmiOptions,
  ) {
    super();
  }

  async act(node: string, bmc: Bmc | null, action: PowerAction): Promise<void> {
    if (action === 'cycle' && (await this.status(node, bmc)) === 'off') action = 'on';
    await this.ipmitool(node, bmc, ['chassis', 'power', action]);
  }

  async status(node: string, bmc: Bmc | null): Promise<PowerState> {
    const out = await this.ipmitool(node, bmc, ['chassis', 'power', 'status']);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m) throw new PowerFailedError(`The BMC of ${node} answered an unknown power status`);
    return m[1].toLowerCase() as PowerState;
  }

  private async ipmitool(node: string, bmc: Bmc | null, command: string[]): Promise<string> {
    if (!bmc?.address) throw new NoBmcError(node);
    const username = bmc.username || this.options.username;
    const password = bmc.password ?? this.options.password;
    const argv = ['ipmitool', '-I', this.options.interface, '-H', bmc.address];
    if (username) argv.push('-U', username);
    try {
      const res = await this.runner.run([...argv, '-E', ...command], {
        env: { IPMI_PASSWORD: password },
        timeoutMs: this.options.timeoutMs,
        secrets: password ? [password] : [],
      });
      return res.stdout;
    } catch (e) {
      if (e instanceof CommandFailedError) {
        // the BMC's own words (ipmitool's last line), never the argv
        throw new PowerFailedError(`The BMC of ${node} failed "${command.join(' ')}": ${e.message}`);
      }
      throw e;
    }
  }
}
