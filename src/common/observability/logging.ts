import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import pino, { DestinationStream, LevelWithSilent } from 'pino';
import type { Options } from 'pino-http';
import { requestFacts } from './request-context';

/** What the logs need from the config: the [logs] section. */
export interface LogSettings {
  /** a file, or a directory (then bmi.log in it); empty: standard output */
  path: string;
  debug: boolean;
  verbose: boolean;
  format: 'auto' | 'json' | 'pretty';
}

/** `X-Request-Id` values BMI takes from a client as they are; anything else gets a fresh id. */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Paths whose successful answers are logged at debug only: probes and scrapes come every few seconds. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Fields that must never reach a log line, wherever they appear: the Authorization header, passwords and CHAP
 * secrets. Access lines carry no headers or bodies to begin with; this is the net below that.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'chapPassword',
  '*.chapPassword',
];

export function logLevel(s: Pick<LogSettings, 'debug' | 'verbose'>): LevelWithSilent {
  if (s.verbose) return 'trace';
  return s.debug ? 'debug' : 'info';
}

/** The file the logs go to for `[logs] path`: the path itself, or bmi.log in it when it is a directory. */
export function logFile(p: string): string {
  if (p.endsWith('/')) return path.join(p, 'bmi.log');
  try {
    if (statSync(p).isDirectory()) return path.join(p, 'bmi.log');
  } catch {
    // not there yet: a file of that name
  }
  return p;
}

/** A request's id: the client's X-Request-Id when it is a plain token, else a new UUID; echoed in the answer. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/**
 * Where log lines go: a file (reopened on SIGHUP, so that logrotate can move it away), pino-pretty on a
 * terminal, or JSON lines on standard output.
 */
export function logDestination(s: LogSettings): { stream: DestinationStream; reopen?: () => void } {
  if (s.path) {
    const file = pino.destination({ dest: logFile(s.path), mkdir: true, sync: false });
    return { stream: file, reopen: () => file.reopen() };
  }
  const pretty = s.format === 'pretty' || (s.format === 'auto' && process.stdout.isTTY === true);
  if (pretty) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on a terminal
    const build = require('pino-pretty') as (o: object) => DestinationStream;
    return { stream: build({ colorize: true, sync: true, ignore: 'pid,hostname' }) };
  }
  return { stream: pino.destination({ dest: 1, sync: false }) };
}

/** Nest's own start-up lines (one per module and per route): debug, not info. */
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** pino-http's options: one access line per request, with its id, caller, status and time. */
export function accessLogOptions(level: LevelWithSilent): Options {
  return {
    level,
    genReqId: requestId,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method, level) {
        const first: unknown = args[0];
        const context = first && typeof first === 'object' ? (first as { context?: unknown }).context : undefined;
        if (level === 30 && typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) {
          return this.debug(...(args as [object, string]));
        }
        return method.apply(this, args);
      },
    },
    // the Nest context of a line is its `context` field; the request's fields are nested under req and res
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remote: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      err: pino.stdSerializers.err,
    },
    customProps: (req) => {
      const { user, project, operationId, errorCode } = requestFacts(req);
      return { user, project, operation: operationId, code: errorCode };
    },
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (QUIET_PATHS.has((req.url ?? '').split('?')[0]) && res.statusCode < 400) return 'debug';
      return 'info';
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${req.url} ${res.statusCode} ${Math.round(ms)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode} failed`,
    customAttributeKeys: { responseTime: 'ms' },
    // one access line per request: the request's own "request received" line is not logged
    quietReqLogger: true,
  };
}

const REOPEN = Symbol('reopen the log file');

/**
 * Handles SIGHUP for as long as the app runs: reopens the log file (after logrotate moved it), or with logs on
 * standard output does nothing, rather than letting the signal end the process (`systemctl reload`).
 */
class LogFileReopener implements OnModuleInit, OnApplicationShutdown {
  private readonly onHangup = () => this.reopen?.();

  constructor(@Inject(REOPEN) private readonly reopen: (() => void) | undefined) {}

  onModuleInit(): void {
    if (this.reopen) process.on('SIGHUP', this.onHangup);
  }

  onApplicationShutdown(): void {
    process.off('SIGHUP', this.onHangup);
  }
}

/**
 * nestjs-pino wired to the [logs] settings. `silent` (tests) keeps the module, so that request ids are still
 * given and echoed, and logs nothing.
 */
@Module({})
export class LoggingModule {
  static forRoot(settings: LogSettings, silent: boolean): DynamicModule {
    const level: LevelWithSilent = silent ? 'silent' : logLevel(settings);
    const { stream, reopen } = silent ? { stream: pino.destination('/dev/null') } : logDestination(settings);
    const params: Params = { pinoHttp: [accessLogOptions(level), stream] };
    // a silent app (tests, tools) leaves SIGHUP to its process
    const onHangup = silent ? undefined : (reopen ?? (() => undefined));
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot(params)],
      providers: [{ provide: REOPEN, useValue: onHangup }, LogFileReopener],
    };
  }
}
