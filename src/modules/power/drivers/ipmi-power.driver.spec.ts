import { RunOptions } from '../../../common/process/command-runner';
import { FakeCommandRunner } from '../../../common/process/fake-command-runner';
import { NoBmcError, PowerFailedError } from '../power.errors';
import { IpmiPowerDriver } from './ipmi-power.driver';

/** Records the options of each call too: the password must travel in the environment. */
class Runner extends FakeCommandRunner {
  readonly options: RunOptions[] = [];
  override run(argv: readonly string[], options: RunOptions = {}) {
    this.options.push(options);
    return super.run(argv, options);
  }
}

const OPTIONS = { interface: 'lanplus', username: 'site-admin', password: 'site-pw', timeoutMs: 5000 };
const BMC = { address: '10.1.0.21', username: 'ADMIN', password: 'node-pw' };
const base = (user = 'ADMIN') => ['ipmitool', '-I', 'lanplus', '-H', '10.1.0.21', '-U', user, '-E'];
const status = (state: 'on' | 'off') => ({ stdout: `Chassis Power is ${state}\n` });

describe('IpmiPowerDriver', () => {
  it('runs ipmitool as argv, with the password in IPMI_PASSWORD (never on the command line)', async () => {
    const runner = new Runner().on([...base(), 'chassis', 'power', 'on'], {});
    await new IpmiPowerDriver(runner, OPTIONS).act('n1', BMC, 'on');
    expect(runner.calls).toEqual([[...base(), 'chassis', 'power', 'on']]);
    expect(runner.calls.flat()).not.toContain('node-pw');
    expect(runner.options[0]).toMatchObject({
      env: { IPMI_PASSWORD: 'node-pw' },
      timeoutMs: 5000,
      secrets: ['node-pw'],
    });
  });

  it('uses [power] ipmi_user and ipmi_password for a node without an account of its own', async () => {
    const runner = new Runner().on([...base('site-admin'), 'chassis', 'power', 'status'], status('off'));
    const state = await new IpmiPowerDriver(runner, OPTIONS).status('n1', { address: '10.1.0.21' });
    expect(state).toBe('off');
    expect(runner.options[0].env).toEqual({ IPMI_PASSWORD: 'site-pw' });
  });

  it('cycles a node that is on, and powers on one that is off (BMCs refuse to cycle it)', async () => {
    const on = new Runner()
      .on([...base(), 'chassis', 'power', 'status'], status('on'))
      .on([...base(), 'chassis', 'power', 'cycle'], {});
    await new IpmiPowerDriver(on, OPTIONS).act('n1', BMC, 'cycle');
    expect(on.calls.map((c) => c.slice(-1)[0])).toEqual(['status', 'cycle']);
    const off = new Runner()
      .on([...base(), 'chassis', 'power', 'status'], status('off'))
      .on([...base(), 'chassis', 'power', 'on'], {});
    await new IpmiPowerDriver(off, OPTIONS).act('n1', BMC, 'cycle');
    expect(off.calls.map((c) => c.slice(-1)[0])).toEqual(['status', 'on']);
  });

  it('reports a BMC that fails or answers nonsense as POWER_FAILED, and a node without a BMC as NO_BMC', async () => {
    const failing = new Runner().on(() => true, {
      exitCode: 1,
      stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session\n',
    });
    const e = await new IpmiPowerDriver(failing, OPTIONS).act('n1', BMC, 'off').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PowerFailedError);
    expect((e as Error).message).toBe(
      'The BMC of n1 failed "chassis power off": ipmitool exited with 1: Error: Unable to establish IPMI v2 / RMCP+ session',
    );
    const odd = new Runner().on(() => true, { stdout: 'Chassis Power Control: Up/On\n' });
    await expect(new IpmiPowerDriver(odd, OPTIONS).status('n1', BMC)).rejects.toBeInstanceOf(PowerFailedError);
    const none = new Runner();
    await expect(new IpmiPowerDriver(none, OPTIONS).act('n1', null, 'on')).rejects.toBeInstanceOf(NoBmcError);
    expect(none.calls).toEqual([]);
  });
});
