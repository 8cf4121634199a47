import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUES, type QueueName } from '../functions/manifest.ts';

/** fauxqs, the SQS API on a local port: SQLite under the data dir, or memory. */
export const startSqs = async (host: string, port: number, dataDir: string | undefined) => {
  const dir = dataDir ? join(dataDir, 'sqs') : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const server = await startFauxqs({ port, host, logger: false, ...(dir ? { dataDir: dir } : {}) });
  return { endpoint: `http://${host}:${server.port}`, stop: () => server.stop() };
};

/** Creates every manifest queue with its dead-letter queue, as the stack does; CreateQueue is idempotent. */
export const ensureQueues = async (sqs: SQSClient): Promise<Record<QueueName, string>> => {
  const urls = {} as Record<QueueName, string>;
  for (const [name, def] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${def.localName}-dlq` }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: def.localName,
        Attributes: {
          VisibilityTimeout: String(def.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(def.maxReceiveCount) }),
        },
      }),
    );
    urls[name] = queue.QueueUrl!;
  }
  return urls;
};
