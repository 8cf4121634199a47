import { SQSClient } from '@aws-sdk/client-sqs';
import { batchedSqsSender } from './batched-sqs-sender.ts';
import type { Config } from '../../config.ts';
import type { NotificationEnvelope } from '../../domain/notifications.ts';
import type { Notifier } from '../../ports/notifier.ts';
import { clientOptions } from './client-options.ts';

/**
 * Sends each notification to the operator's queue (CONTRACT.md §3) and, at the same time, to the push-route
 * queue that HTTP push reads (§7), unless the caller read that the project never had a push rule: the caller
 * waits for the slower of two sends, not for both in turn. What a use case notifies at once (a message's
 * PENDING and DELIVERED, a batch chunk's many messages) goes out ten to a SendMessageBatch.
 */
export class SqsNotifier implements Notifier {
  private readonly sendTo: (url: string, body: string) => Promise<void>;

  constructor(
    sqs: SQSClient,
    private readonly notificationQueueUrl: string,
    private readonly pushRouteQueueUrl: string | undefined,
  ) {
    this.sendTo = batchedSqsSender(sqs);
  }

  async send(envelope: NotificationEnvelope, mayPush = true): Promise<void> {
    const body = JSON.stringify(envelope);
    const urls =
      mayPush && this.pushRouteQueueUrl
        ? [this.notificationQueueUrl, this.pushRouteQueueUrl]
        : [this.notificationQueueUrl];
    await Promise.all(urls.map((url) => this.sendTo(url, body)));
  }
}

/** The notifier of a function whose manifest access has `notify` (functions/create-deps.ts Adapters). */
export const sqsNotifier = (config: Config): Notifier =>
  new SqsNotifier(
    new SQSClient(clientOptions(config.region, config.endpoints?.sqs)),
    config.notificationQueueUrl,
    config.pushRouteQueueUrl || undefined,
  );
