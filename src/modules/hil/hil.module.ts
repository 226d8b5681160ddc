import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DriverUnavailableError } from '../../common/errors/driver-unavailable';
import { AccessService } from './access.service';
import { DEFAULT_HIL_SEED, FakeHilClient } from './drivers/fake-hil.client';
import { HttpHilClient } from './drivers/http-hil.client';
import { HilClient } from './hil.client';

export function hilClientFactory(config: AppConfig): HilClient {
  switch (config.drivers.netIsolator) {
    case 'fake':
      return config.netIsolator.fakeSeed
        ? FakeHilClient.fromFile(config.netIsolator.fakeSeed)
        : new FakeHilClient(DEFAULT_HIL_SEED);
    case 'hil':
      return new HttpHilClient({
        url: config.netIsolator.url,
        timeoutMs: config.netIsolator.timeoutMs,
        connectTimeoutMs: config.netIsolator.connectTimeoutMs,
        retries: config.netIsolator.retries,
      });
    case 'standalone':
      throw DriverUnavailableError.of('net_isolator', 'standalone');
  }
}

@Module({
  providers: [{ provide: HilClient, inject: [AppConfig], useFactory: hilClientFactory }, AccessService],
  exports: [AccessService],
})
export class HilModule {}
