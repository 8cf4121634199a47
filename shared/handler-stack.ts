import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Deps } from './ports/deps.ts';
import { runAlone } from './use-cases/run-alone.ts';
import type { Telemetry } from './telemetry.ts';

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/** Tags every log line of the invocation with what it works on (the API request id, the batch task id). */
const correlate = <E>(logger: Logger, idOf: (event: E) => string | undefined): MiddlewareObj<E> => ({
  before: (request) => {
    const id = idOf(request.event);
    if (id) logger.setCorrelationId(id);
  },
});

/**
 * Publishes the invocation's metrics as one EMF line, only when it counted something: Powertools' logMetrics
 * warns on every invocation that counted nothing, which most API calls are.
 */
const publishMetrics = (metrics: Metrics): MiddlewareObj => {
  const publish = () => void (metrics.hasStoredMetrics() && metrics.publishStoredMetrics());
  return { after: publish, onError: publish };
};

/**
 * The one middleware stack every handler kind starts from, Powertools first: the Logger's Lambda context
 * (request id, cold start) and correlation id, X-Ray's handler segment, the EMF flush. The kinds below add
 * their own middlewares (the API its error bodies) and their handler last.
 */
export const handlerStack = <E, R>(telemetry: Telemetry, correlationId?: (event: E) => string | undefined) => {
  const stack = middy<E, R>().use(injectLambdaContext(telemetry.logger, { resetKeys: true }));
  if (correlationId) stack.use(correlate(telemetry.logger, correlationId));
  if (telemetry.traced) stack.use(telemetry.traced());
  if (telemetry.metrics) stack.use(publishMetrics(telemetry.metrics));
  return stack;
};

/** A function invoked with its input as the event (a state machine's Task state, an IoT rule's action). */
export const invokedHandler = <E, R>(
  deps: Pick<Deps, 'telemetry'>,
  work: (event: E) => Promise<R>,
  correlationId?: (event: E) => string | undefined,
): LambdaHandler<E, R> => handlerStack<E, R>(deps.telemetry, correlationId).handler(work);

/** A scheduled function: its work runs alone (run-alone.ts), the lease lasting the invocation's time left. */
export const scheduledHandler = <R>(
  deps: Pick<Deps, 'telemetry' | 'leases' | 'clock' | 'logger'>,
  leaseName: string,
  work: () => Promise<R>,
): LambdaHandler<unknown, R | { skipped: true }> =>
  handlerStack<unknown, R | { skipped: true }>(deps.telemetry).handler((_event, context) =>
    runAlone(deps, leaseName, context.getRemainingTimeInMillis(), work),
  );
