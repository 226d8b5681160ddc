import type { Server } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Express } from 'express';
import * as express from 'express';
import helmet from 'helmet';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { DomainErrorFilter } from './common/errors/domain-error.filter';
import { methodNotAllowed } from './common/http/method-not-allowed';
import { isV1Path } from './common/http/v1-face';
import { useSwagger } from './common/openapi/use-swagger';
import { validationPipe } from './common/http/validation';
import { limitBodyDepth } from './common/http/body-depth';
import { LoggingModule } from './common/observability/logging';
import { httpMetrics, Metrics } from './common/observability/metrics';
import { bindRequest } from './common/observability/request-context';

export interface CreateAppOptions {
  /** false: no log lines at all (tests, tools); otherwise JSON lines as [logs] says */
  logger?: false;
}

/**
 * Builds the whole app from a validated config: structured logs with a request id, security headers, body
 * parsers for form and JSON bodies, validation, the one error filter, 405 for known paths, Swagger UI at /docs
 * and the document at /openapi.json.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const silent = options.logger === false;
  const logging = LoggingModule.forRoot(config.logs, silent);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, [logging]), {
    logger: silent ? false : undefined,
    bufferLogs: !silent,
    bodyParser: false,
    // a provider that cannot be built (a driver this build lacks) fails the start with its own message
    abortOnError: false,
  });
  if (!silent) app.useLogger(app.get(PinoNestLogger));
  app.disable('x-powered-by');
  app.use(bindRequest);
  app.use(httpMetrics(app.get(Metrics)));
  app.use(securityHeaders());
  // Every route outside /v1 belongs to the original API, whose errors are plain text, body-parser errors too.
  app.use((req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!isV1Path(req.path)) res.locals.legacyFace = true;
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.use(express.json({ limit: '64kb' }));
  app.use(limitBodyDepth());
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  // SIGHUP reopens the log file (logrotate); the other signals that end a process shut the app down cleanly
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  useSwagger(app);
  await app.init();
  limitRequestTime(app.getHttpServer() as Server, config.http.requestTimeoutSeconds);
  const http = app.getHttpAdapter().getInstance() as Express;
  installMethodNotAllowed(http);
  return app;
}

/**
 * helmet's standard headers (no X-Powered-By, nosniff, frame and referrer policies, a content security policy
 * Swagger UI works under), without the two that assume BMI itself serves HTTPS: whoever terminates TLS in
 * front of BMI sets HSTS.
 */
function securityHeaders(): express.RequestHandler {
  return helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'img-src': ["'self'", 'data:'],
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': null,
      },
    },
  });
}

/**
 * A client has `seconds` to send its whole request (headers within the same bound): slow senders cannot hold
 * connections open. Node checks these bounds every few seconds, so they are approximate.
 */
function limitRequestTime(server: Server, seconds: number): void {
  server.requestTimeout = seconds * 1000;
  server.headersTimeout = Math.min(seconds, 20) * 1000;
}

/** Puts a 405 middleware in front of the routes, built from the routes the app registered. */
function installMethodNotAllowed(http: Express): void {
  const router =
    (http as unknown as { router?: { stack: RouterLayer[] }; _router?: { stack: RouterLayer[] } }).router ??
    (http as unknown as { _router?: { stack: RouterLayer[] } })._router;
  if (!router) return;
  const routes = new Map<string, Set<string>>();
  for (const layer of router.stack) {
    const route = layer.route;
    if (!route || typeof route.path !== 'string') continue;
    const path = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
    const set = routes.get(path) ?? new Set<string>();
    for (const [m, on] of Object.entries(route.methods)) if (on) set.add(m.toUpperCase());
    routes.set(path, set);
  }
  http.use(methodNotAllowed(routes));
  // After every middleware (request id, metrics, headers, body parsers, and the access log, which Nest mounts as
  // a route of every method), before the controllers' routes.
  const layer = router.stack.pop();
  const everyMethod = (l: RouterLayer) => Object.keys(l.route?.methods ?? {}).length > 8;
  let at = router.stack.map(everyMethod).lastIndexOf(true) + 1;
  if (at === 0)
    at = Math.max(
      0,
      router.stack.findIndex((l) => l.route),
    );
  if (layer) router.stack.splice(at, 0, layer);
  new Logger('Http').debug(`405 guard covers ${routes.size} paths`);
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}
