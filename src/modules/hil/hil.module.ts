import { Logger, Module } from '@nestjs/common';
import { costOf } from '../standalone/password-hash';
import { AppConfig } from '../../config/app-config';
import { FakeHilClient } from './drivers/fake-hil.client';
import { HttpHilClient } from './drivers/http-hil.client';
import { StandaloneHilClient } from './drivers/standalone-hil.client';
import { HilClient } from './hil.client';
import { Metrics } from '../../common/observability/metrics';
import { StandaloneDirectory } from '../standalone/standalone-directory';
import { StandaloneStoreModule } from '../standalone/standalone-store.module';
import { PowerDriver } from '../power/power.driver';
import { PowerModule } from '../power/power.module';

export function hilClientFactory(
  config: AppConfig,
  directory?: StandaloneDirectory,
  metrics?: Metrics,
  power?: PowerDriver,
): HilClient {
  switch (config.drivers.netIsolator) {
    case 'fake':
      return config.netIsolator.fakeSeed
        ? FakeHilClient.fromFile(config.netIsolator.fakeSeed, power)
        : new FakeHilClient(undefined, power);
    case 'hil':
      return new HttpHilClient({
        url: config.netIsolator.url,
        timeoutMs: config.netIsolator.timeoutMs,
        connectTimeoutMs: config.netIsolator.connectTimeoutMs,
        retries: config.netIsolator.retries,
        observe: metrics?.hilCall,
      });
    case 'standalone':
      if (!directory) throw new Error('net_isolator = standalone needs the standalone directory');
      return new StandaloneHilClient(directory, {
        cost: costOf(config.auth.scryptCost),
        power,
        onRehashFailure: (user, e) =>
          new Logger('Standalone').warn(`the password hash of ${user} could not be redone: ${String(e)}`),
      });
  }
}

@Module({
  imports: [StandaloneStoreModule, PowerModule],
  providers: [
    {
      provide: HilClient,
      inject: [AppConfig, StandaloneDirectory, Metrics, PowerDriver],
      useFactory: hilClientFactory,
    },
  ],
  exports: [HilClient],
})
export class HilModule {}
