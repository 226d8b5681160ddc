import type { Server } from 'node:http';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { TypeOrmOperationJournal } from '../operations/operation-journal.service';

/**
 * A stop by signal (SIGTERM from systemd, SIGINT): BMI stops taking requests (the listening socket closes and
 * idle connections with it; requests under way go on), waits at most `[rest_api] shutdown_grace_seconds` for
 * the operations it runs to end, then lets the app close. Readiness answers 503 from the first moment, so that
 * a load balancer stops sending requests here. A close without a signal (tests, tools) does not wait.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  /** set once a stop began */
  stopping = false;

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly journal: TypeOrmOperationJournal,
    private readonly config: AppConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (!signal) return;
    this.stopping = true;
    const server = this.adapter.httpAdapter?.getHttpServer() as Server | undefined;
    server?.close();
    server?.closeIdleConnections();
    const graceMs = this.config.http.shutdownGraceSeconds * 1000;
    this.logger.log(`${signal}: no new requests; waiting up to ${graceMs / 1000} s for running operations`);
    const left = await this.journal.drain(graceMs);
    if (left) this.logger.warn(`${left} operation(s) still running are left to the journal's recovery`);
    else this.logger.log('no operation running: stopping');
  }
}
