import { Global, Injectable, Module } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a timed call ended. */
export type Outcome = 'ok' | 'error';

/** Receives the time of one call to a dependency: its name, seconds, outcome. */
export type CallObserver = (call: string, seconds: number, outcome: Outcome) => void;

/** A clock started now: each call returns the seconds since. */
export function stopwatch(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `fn`, telling `observe` (when given) how long it took and whether it threw. */
export async function timed<T>(observe: CallObserver | undefined, call: string, fn: () => Promise<T>): Promise<T> {
  if (!observe) return fn();
  const seconds = stopwatch();
  try {
    const result = await fn();
    observe(call, seconds(), 'ok');
    return result;
  } catch (e) {
    observe(call, seconds(), 'error');
    throw e;
  }
}

/** Buckets for calls to BMI's dependencies: a millisecond to a minute. */
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets for operations and their steps, which may copy whole images: 10 ms to an hour. */
const OPERATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * BMI's metrics, in one registry per app (the tests build many apps in one process), served at /metrics in
 * Prometheus' text format by prom-client. Label values are bounded: route templates, operation kinds and step
 * names, call names, status codes; never a user, a project or an image name.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = this.counter(
    'bmi_http_requests_total',
    'HTTP requests answered, by method, route template and status',
    ['method', 'route', 'status'],
  );
  readonly httpDuration = this.histogram(
    'bmi_http_request_duration_seconds',
    'Time from a request arriving to its answer being sent, by method, route template and status',
    ['method', 'route', 'status'],
    CALL_BUCKETS,
  );
  readonly operationDuration = this.histogram(
    'bmi_operation_duration_seconds',
    'Journaled operations run by this instance, from start to end, by kind and outcome',
    ['kind', 'outcome'],
    OPERATION_BUCKETS,
  );
  readonly stepDuration = this.histogram(
    'bmi_operation_step_duration_seconds',
    'Steps of journaled operations, by operation kind, step number (1 is the first) and outcome',
    ['kind', 'step', 'outcome'],
    OPERATION_BUCKETS,
  );
  readonly operationsInFlight = this.gauge(
    'bmi_operations_in_flight',
    'Journaled operations this instance is running now, by kind',
    ['kind'],
  );
  readonly operationsFailed = this.counter(
    'bmi_operations_failed_total',
    'Journaled operations that did not end done, by kind and end state (rolled_back, failed, interrupted)',
    ['kind', 'state'],
  );
  readonly cephCalls = this.histogram(
    'bmi_ceph_call_duration_seconds',
    'librbd calls, by call and outcome',
    ['call', 'outcome'],
    CALL_BUCKETS,
  );
  readonly tgtadmCalls = this.histogram(
    'bmi_tgtadm_call_duration_seconds',
    'tgtadm runs, by mode and op, and outcome',
    ['call', 'outcome'],
    CALL_BUCKETS,
  );
  readonly hilCalls = this.histogram(
    'bmi_hil_call_duration_seconds',
    'Requests to HIL, by call and outcome',
    ['call', 'outcome'],
    CALL_BUCKETS,
  );
  readonly accessChecks = this.counter(
    'bmi_access_checks_total',
    'Access decisions, answered from the grant cache (hit) or by asking HIL (miss), by kind',
    ['kind', 'cache'],
  );
  readonly loginFailures = this.counter(
    'bmi_login_failures_total',
    'Refused credentials (401), and requests refused as throttled (429), by outcome',
    ['outcome'],
  );
  readonly drift = this.gauge(
    'bmi_reconcile_drift',
    'Drift between the database, Ceph and the targets found by the last check, by kind',
    ['kind'],
  );
  readonly driftFound = this.counter(
    'bmi_reconcile_drift_found_total',
    'Drift found by the reconcilers since start, by kind',
    ['kind'],
  );

  readonly cephCall: CallObserver = (call, s, outcome) => this.cephCalls.observe({ call, outcome }, s);
  readonly tgtadmCall: CallObserver = (call, s, outcome) => this.tgtadmCalls.observe({ call, outcome }, s);
  readonly hilCall: CallObserver = (call, s, outcome) => this.hilCalls.observe({ call, outcome }, s);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bmi_' });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** The metrics in Prometheus' text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The app's one Metrics, available to every module. */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}

/**
 * Counts and times every answer by method, route template (`/v1/projects/:project/disks`, never the path a
 * client sent: that would be unbounded) and status; requests no route took are `unmatched`.
 */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const seconds = stopwatch();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const labels = {
        method: req.method,
        route: typeof route === 'string' ? route : 'unmatched',
        status: res.statusCode,
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds());
    });
    next();
  };
}
