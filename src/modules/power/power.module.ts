import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { CommandRunner } from '../../common/process/command-runner';
import { ProcessModule } from '../../common/process/process.module';
import { FakePowerDriver } from './drivers/fake-power.driver';
import { IpmiPowerDriver } from './drivers/ipmi-power.driver';
import { PowerDriver } from './power.driver';

/** The configured driver; the fake isolator's nodes have no BMC, so they always get the fake one. */
export function powerDriverFactory(config: AppConfig, runner: CommandRunner): PowerDriver {
  if (config.drivers.power === 'fake' || config.drivers.netIsolator === 'fake') return new FakePowerDriver();
  const p = config.power;
  return new IpmiPowerDriver(runner, {
    interface: p.ipmiInterface,
    username: p.ipmiUser,
    password: p.ipmiPassword,
    timeoutMs: p.timeoutSeconds * 1000,
  });
}

/** The PowerDriver port (`[driver] power`): what switches nodes when BMI, not HIL, does it. */
@Module({
  imports: [ProcessModule],
  providers: [{ provide: PowerDriver, inject: [AppConfig, CommandRunner], useFactory: powerDriverFactory }],
  exports: [PowerDriver],
})
export class PowerModule {}
