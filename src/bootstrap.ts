import { INestApplication, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Express } from 'express';
import * as express from 'express';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { DomainErrorFilter } from './common/errors/domain-error.filter';
import { methodNotAllowed } from './common/http/method-not-allowed';
import { isV1Path } from './common/http/v1-face';
import { useSwagger } from './common/openapi/use-swagger';
import { validationPipe } from './common/http/validation';
import { limitBodyDepth } from './common/http/body-depth';

export interface CreateAppOptions {
  logger?: false | LogLevel[];
}

export function logLevels(config: AppConfig): LogLevel[] {
  return config.logs.debug ? ['error', 'warn', 'log', 'debug'] : ['error', 'warn', 'log'];
}

/**
 * Builds the whole app from a validated config: body parsers for form and JSON bodies, validation, the one
 * error filter, 405 for known paths, Swagger UI at /docs and the document at /openapi.json.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: options.logger ?? logLevels(config),
    bodyParser: false,
    // a provider that cannot be built (a driver this build lacks) fails the start with its own message
    abortOnError: false,
  });
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
  app.enableShutdownHooks();
  useSwagger(app);
  await app.init();
  const http = app.getHttpAdapter().getInstance() as Express;
  installMethodNotAllowed(http);
  return app;
}

/** Moves a 405 middleware in front of the router, built from the routes the app registered. */
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
  const layer = router.stack.pop();
  if (layer) router.stack.unshift(layer);
  new Logger('Http').debug(`405 guard covers ${routes.size} paths`);
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}
