import { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Config } from './config.ts';
import type { MetricsRecorder } from './ports/metrics.ts';

export const SERVICE = 'downlink';

/**
 * The Powertools instances of one runtime, which the handler stacks (handler-stack.ts) attach. On Lambda
 * (functions/lambda-telemetry.ts): Logger, Metrics (EMF, flushed after each invocation) and the Tracer's
 * handler middleware (active tracing). Locally there is no
 * EMF reader and no X-Ray daemon: no metrics and no tracer, so nothing is serialized or printed for them
 * (docs/decisions.md "Powertools handler stacks").
 */
export interface Telemetry {
  logger: Logger;
  metrics?: Metrics;
  /** The Tracer's handler middleware; built by the Lambda entry only (functions/lambda-telemetry.ts). */
  traced?: () => MiddlewareObj;
}

export const loggerOf = (config: Pick<Config, 'logLevel'>) =>
  new Logger({ serviceName: SERVICE, logLevel: config.logLevel });

export const localTelemetry = (config: Pick<Config, 'logLevel'>): Telemetry => ({ logger: loggerOf(config) });

/** The use cases' MetricsRecorder over the runtime's Metrics; counts nothing where there is none. */
export const metricsRecorder = (metrics: Metrics | undefined): MetricsRecorder => ({
  count: (name, n = 1) => metrics?.addMetric(name, MetricUnit.Count, n),
});
