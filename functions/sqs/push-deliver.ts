import type { Context, SQSEvent } from 'aws-lambda';
import { sqsPushQueue } from '../../shared/adapters/aws/sqs-push-queue.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { HostBreaker } from '../../shared/domain/host-breaker.ts';
import type { PushDelivery } from '../../shared/domain/push-delivery.ts';
import { forEachRecord } from '../../shared/sqs-batch.ts';
import { batchRouting, deliverPush } from '../../shared/use-cases/deliver-push.ts';
import { lambda } from '../deps.ts';

/** Pushes a receiver may have in flight from one instance; past that they wait in the queue (host-breaker.ts). */
const MAX_IN_FLIGHT_PER_HOST = 16;

/** Each push of the batch at once (a slow receiver delays only its own), each acknowledged or retried on its own. */
export const build = (deps: Deps) => {
  // Per instance: what this instance has seen of each receiver's host.
  const breaker = new HostBreaker(
    { maxInFlight: MAX_IN_FLIGHT_PER_HOST, firstProbeMs: deps.config.pushRetryBaseMs },
    deps.clock.now,
  );
  return (event: SQSEvent, context: Context) => {
    const routing = batchRouting(deps);
    return forEachRecord(deps, (body) => deliverPush(deps, breaker, body as PushDelivery, routing))(event, context);
  };
};

export const handler = lambda(build, { pushQueue: sqsPushQueue });
