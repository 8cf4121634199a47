import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Config } from '../shared/config.ts';
import { loggerOf, SERVICE, type Telemetry } from '../shared/telemetry.ts';

/**
 * Lambda's Powertools: Logger, Metrics (EMF, flushed after each invocation) and Tracer (active tracing).
 * Imported only by functions/deps.ts's Lambda entry, lazily: the Tracer's X-Ray SDK installs async hooks on
 * import (cls-hooked), which cost the local runtime, which imports every function module, a third of its
 * throughput (docs/decisions.md "Powertools handler stacks").
 */
export const lambdaTelemetry = (config: Pick<Config, 'logLevel'>): Telemetry => {
  const tracer = new Tracer({ serviceName: SERVICE });
  return {
    logger: loggerOf(config),
    metrics: new Metrics({ namespace: 'Downlink', serviceName: SERVICE }),
    // Responses stay out of the traces: they carry device data.
    traced: () => captureLambdaHandler(tracer, { captureResponse: false }),
  };
};
