import { Injectable } from '@nestjs/common';
import type { BlockList } from 'node:net';
import { addressList, onList } from '../../common/net';
import { AppConfig } from '../../config/app-config';
import { MetricsClientNotAllowedError } from './service.errors';

/** Which clients may scrape /metrics: those of `[rest_api] metrics_allow`, or any when it is empty. */
@Injectable()
export class MetricsAccess {
  private readonly allow: BlockList | null;

  constructor(config: AppConfig) {
    this.allow = config.http.metricsAllow.length ? addressList(config.http.metricsAllow) : null;
  }

  assertAllowed(client: string | undefined): void {
    if (this.allow && !onList(this.allow, client)) {
      throw new MetricsClientNotAllowedError(`${client ?? 'this client'} may not read the metrics`);
    }
  }
}
