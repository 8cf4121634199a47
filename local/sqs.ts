import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { mkdirSync } from 'node:fs';
import { Server } from 'node:net';
import { join } from 'node:path';
import { QUEUES, type QueueName } from '../functions/manifest.ts';

/**
 * fauxqs 2.4 listens on 0.0.0.0 whatever its `host` option says (that names the host in queue URLs only), and
 * its queues carry presence events anyone could forge: its one listen call, made while it starts, is sent to
 * `host` instead (CONTRACT.md §4: every port binds to DOWNLINK_HOST).
 */
const listeningOn = async <T>(host: string, start: () => Promise<T>): Promise<{ started: T; server: Server }> => {
  const listen = Server.prototype.listen;
  let server: Server | undefined;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [options] = args as [{ host?: string } | undefined];
    if (typeof options === 'object' && options?.host === '0.0.0.0') args[0] = { ...options, host };
    server = this;
    return listen.apply(this, args as Parameters<Server['listen']>);
  } as Server['listen'];
  try {
    const started = await start();
    return { started, server: server! };
  } finally {
    Server.prototype.listen = listen;
  }
};

/** fauxqs, the SQS API on a local port: SQLite under the data dir, or memory. */
export const startSqs = async (host: string, port: number, dataDir: string | undefined) => {
  const dir = dataDir ? join(dataDir, 'sqs') : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const { started, server } = await listeningOn(host, () =>
    startFauxqs({ port, host, logger: false, ...(dir ? { dataDir: dir } : {}) }),
  );
  // The HTTP server, for in-process requests (local/in-process-transport.ts).
  return { endpoint: `http://${host}:${started.port}`, server, stop: () => started.stop() };
};

/**
 * Creates every manifest queue with its dead-letter queue, as the stack does; CreateQueue is idempotent.
 * Returns the queues' URLs and their dead-letter queues', by queue name.
 */
export const ensureQueues = async (sqs: SQSClient) => {
  const urls = {} as Record<QueueName, string>;
  const deadLetters = {} as Record<QueueName, string>;
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
    deadLetters[name] = dlq.QueueUrl!;
  }
  return { urls, deadLetters };
};
