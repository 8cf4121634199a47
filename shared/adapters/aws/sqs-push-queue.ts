import { SQSClient } from '@aws-sdk/client-sqs';
import { batchedSqsSender } from './batched-sqs-sender.ts';
import type { Config } from '../../config.ts';
import type { PushDelivery } from '../../domain/push-delivery.ts';
import type { PushQueue } from '../../ports/push-queue.ts';
import { clientOptions } from './client-options.ts';

export class SqsPushQueue implements PushQueue {
  // Deliveries, retries and dead letters of one turn go out together (a batch to a failing host fails whole).
  private readonly sendTo: ReturnType<typeof batchedSqsSender>;

  constructor(
    sqs: SQSClient,
    private readonly deliveryUrl: string,
    private readonly deadLetterUrl: string,
  ) {
    this.sendTo = batchedSqsSender(sqs);
  }

  async enqueue(deliveries: PushDelivery[]): Promise<void> {
    // Sent in one turn: the sender gathers them into SendMessageBatch calls.
    await Promise.all(deliveries.map((d) => this.sendTo(this.deliveryUrl, JSON.stringify(d))));
  }

  retryLater(delivery: PushDelivery, delaySeconds: number): Promise<void> {
    const delay = Math.min(900, Math.max(0, Math.ceil(delaySeconds)));
    return this.sendTo(this.deliveryUrl, JSON.stringify(delivery), delay);
  }

  async deadLetter(delivery: PushDelivery): Promise<void> {
    if (!this.deadLetterUrl) throw new Error('no push dead-letter queue is configured for this function');
    await this.sendTo(this.deadLetterUrl, JSON.stringify(delivery));
  }
}

/** The push queue of a function whose manifest access has `push` (shared/deps.ts Adapters). */
export const sqsPushQueue = (config: Config): PushQueue =>
  new SqsPushQueue(
    new SQSClient(clientOptions(config.region, config.endpoints?.sqs)),
    config.pushDeliveryQueueUrl,
    config.pushDeadLetterQueueUrl,
  );
