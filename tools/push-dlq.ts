import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { QUEUES } from '../functions/manifest.ts';
import { clientOptions } from '../shared/adapters/aws/client-options.ts';
import type { PushDelivery } from '../shared/domain/push-delivery.ts';
import { localHost } from './local-host.ts';

const USAGE = `The HTTP pushes that failed for 24 hours (CONTRACT.md §7), kept in the push dead-letter queue.

  npm run push-dlq -- list       one line each: request_id, project, action, attempts, first try, last error
  npm run push-dlq -- redrive    send them all back to the push-delivery queue: each gets a new 24 hours

  --endpoint URL          SQS endpoint (default http://$DOWNLINK_HOST:$DOWNLINK_SQS_PORT when set, else
                          http://127.0.0.1:9324: the local runtime)
  --aws                   use the AWS account of the current credentials, with the two URLs below (the
                          stack's outputs); the SQS console's "Start DLQ redrive" on PushDeadLetterQueue does
                          the same as redrive
  --dlq-url URL           the dead-letter queue (default: the local one)
  --queue-url URL         the push-delivery queue (default: the local one)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    aws: { type: 'boolean', default: false },
    region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
    'dlq-url': { type: 'string' },
    'queue-url': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const command = positionals[0];
if (values.help || (command !== 'list' && command !== 'redrive')) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

const endpoint = values.aws
  ? undefined
  : (values.endpoint ?? `http://${localHost(process.env)}:${process.env.DOWNLINK_SQS_PORT || '9324'}`);
const sqs = new SQSClient(clientOptions(values.region, endpoint));
const urlOf = async (given: string | undefined, localName: string) =>
  given ?? (await sqs.send(new GetQueueUrlCommand({ QueueName: localName }))).QueueUrl!;
const delivery = QUEUES['push-delivery'].localName;
const dlqUrl = await urlOf(values['dlq-url'], `${delivery}-dlq`);

const entries = (messages: Message[]) => messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));

/** Every message in the dead-letter queue, each held invisible while this runs (10 at a time: SQS's limit). */
const receiveAll = async (): Promise<Message[]> => {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (!Messages.length) return all;
    all.push(...Messages);
  }
};

const held = await receiveAll();
if (command === 'list') {
  for (const m of held) {
    const d = JSON.parse(m.Body ?? '{}') as Partial<PushDelivery>;
    console.log(
      [
        d.envelope?.request_id,
        d.projectId,
        `action ${d.actionId}`,
        d.envelope?.resource,
        `${d.attempts} attempts since ${d.since ? new Date(d.since).toISOString() : '?'}`,
        d.lastError,
      ].join('  '),
    );
  }
  console.log(`${held.length} push(es) in the dead-letter queue`);
  // Only looked at: visible again at once.
  for (let i = 0; i < held.length; i += 10)
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: entries(held.slice(i, i + 10)).map((e) => ({ ...e, VisibilityTimeout: 0 })),
      }),
    );
} else {
  const queueUrl = await urlOf(values['queue-url'], delivery);
  // Sent back before deleted: a run that dies between leaves a copy in both, never in neither.
  for (let i = 0; i < held.length; i += 10) {
    const group = held.slice(i, i + 10);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: group.map((m, j) => ({ Id: String(j), MessageBody: m.Body! })),
      }),
    );
    const failed = new Set((sent.Failed ?? []).map((f) => f.Id));
    const moved = group.filter((_, j) => !failed.has(String(j)));
    if (moved.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries(moved) }));
    if (failed.size) console.error(`${failed.size} could not be sent back; they stay in the dead-letter queue`);
  }
  console.log(`${held.length} push(es) sent back to the push-delivery queue`);
}
