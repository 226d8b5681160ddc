import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { FakeHilClient } from './drivers/fake-hil.client';
import { HttpHilClient } from './drivers/http-hil.client';
import { StandaloneHilClient } from './drivers/standalone-hil.client';
import { HilClient } from './hil.client';
import { StandaloneDirectory } from '../standalone/standalone-directory';
import { StandaloneStoreModule } from '../standalone/standalone-store.module';

export function hilClientFactory(config: AppConfig, directory?: StandaloneDirectory): HilClient {
  switch (config.drivers.netIsolator) {
    case 'fake':
      return config.netIsolator.fakeSeed ? FakeHilClient.fromFile(config.netIsolator.fakeSeed) : new FakeHilClient();
    case 'hil':
      return new HttpHilClient({
        url: config.netIsolator.url,
        timeoutMs: config.netIsolator.timeoutMs,
        connectTimeoutMs: config.netIsolator.connectTimeoutMs,
        retries: config.netIsolator.retries,
      });
    case 'standalone':
      if (!directory) throw new Error('net_isolator = standalone needs the standalone directory');
      return new StandaloneHilClient(directory);
  }
}

@Module({
  imports: [StandaloneStoreModule],
  providers: [{ provide: HilClient, inject: [AppConfig, StandaloneDirectory], useFactory: hilClientFactory }],
  exports: [HilClient],
})
export class HilModule {}
