import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { batchedSqsSender } from './batched-sqs-sender.ts';
import type { Config } from '../../config.ts';
import type { PushDelivery } from '../../domain/push-delivery.ts';
import type { PushQueue } from '../../ports/push-queue.ts';
import { clientOptions } from './client-options.ts';

const MAX_BATCH = 10; // SendMessageBatch's limit
// SendMessageBatch takes 1 MiB in all; envelopes are a few hundred bytes, the split keeps any mix well under.
const MAX_BATCH_BYTES = 900_000;

/** Splits bodies into SendMessageBatch-sized groups. */
const batches = (bodies: string[]): string[][] => {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length === MAX_BATCH || (current.length && bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
};

export class SqsPushQueue implements PushQueue {
  // Retries and dead letters of one batch go out together (a batch to a failing host fails whole).
  private readonly sendTo: ReturnType<typeof batchedSqsSender>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly deliveryUrl: string,
    private readonly deadLetterUrl: string,
  ) {
    this.sendTo = batchedSqsSender(sqs);
  }

  async enqueue(deliveries: PushDelivery[]): Promise<void> {
    await Promise.all(
      batches(deliveries.map((d) => JSON.stringify(d))).map(async (group) => {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.deliveryUrl,
            Entries: group.map((body, i) => ({ Id: String(i), MessageBody: body })),
          }),
        );
        const failed = out.Failed ?? [];
        if (failed.length) throw new Error(`SQS refused ${failed.length} pushes: ${failed[0]!.Code}`);
      }),
    );
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
