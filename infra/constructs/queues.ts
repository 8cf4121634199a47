import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDef, QueueName } from '../../functions/manifest.ts';

export type Queues = Record<QueueName, Queue>;

const secure = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;

/** Every manifest queue, each with its own dead-letter queue so a poison message stops being retried. */
export class DownlinkQueues extends Construct {
  readonly byName: Queues;
  /** Each queue's dead-letter queue, by the queue's name. */
  readonly deadLetters = {} as Queues;

  constructor(scope: Construct, id: string, defs: Record<QueueName, QueueDef>) {
    super(scope, id);
    const entries = Object.entries(defs) as [QueueName, QueueDef][];
    this.byName = Object.fromEntries(
      entries.map(([name, def]) => {
        // 14 days, the SQS maximum, so an operator has time to look at what failed.
        const dlq = new Queue(this, `${name}-dlq`, { ...secure, retentionPeriod: Duration.days(14) });
        this.deadLetters[name] = dlq;
        const queue = new Queue(this, name, {
          ...secure,
          visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
          deadLetterQueue: { queue: dlq, maxReceiveCount: def.maxReceiveCount },
        });
        return [name, queue];
      }),
    ) as Queues;
  }
}
