import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsPushQueue } from '../../shared/adapters/aws/sqs-push-queue.ts';
import { handlerStack } from '../../shared/handler-stack.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import { routePushes } from '../../shared/use-cases/route-pushes.ts';
import { lambda } from '../deps.ts';

/** Notifications in, one push per matching rule action out (CONTRACT.md §7); failed records come back whole. */
export const build = (deps: Deps) =>
  handlerStack<SQSEvent, SQSBatchResponse>(deps.telemetry).handler(async (event) => {
    const envelopes = event.Records.map((r) => {
      try {
        return JSON.parse(r.body) as NotificationEnvelope;
      } catch {
        deps.logger.warn('dropping a notification that is not JSON', { messageId: r.messageId });
        return undefined;
      }
    });
    const failed = await routePushes(deps, envelopes);
    return { batchItemFailures: [...failed].map((i) => ({ itemIdentifier: event.Records[i]!.messageId })) };
  });

export const handler = lambda(build, { pushQueue: sqsPushQueue });
