import { localHost } from './local-host.ts';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { clientOptions } from '../shared/adapters/aws/client-options.ts';
import { DEFAULT_REGION } from '../shared/aws-names.ts';

const USAGE = `Print the notification envelopes waiting in the queue, one JSON line each, and delete them from the
queue once printed, as an application consuming them would: a second run prints only newer ones.

  npm run notifications [-- --follow] [--keep]

  --follow         keep waiting for new ones (Ctrl-C to stop)
  --keep           only look: leave them in the queue, visible again when this run ends (each read still
                   counts toward the queue's 10 receives before its dead-letter queue; with --follow, one
                   read is printed again after the queue's 30 s visibility timeout)
  --endpoint URL   SQS endpoint (default http://$DOWNLINK_HOST:$DOWNLINK_SQS_PORT when set, else
                   http://127.0.0.1:9324: the local runtime)
  --queue-url URL  the queue (default: the local downlink-notifications); with --aws, the stack's
                   NotificationQueueUrl output
  --aws            use the AWS account of the current credentials`;

const { values } = parseArgs({
  options: {
    follow: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
    'queue-url': { type: 'string' },
    aws: { type: 'boolean', default: false },
    region: { type: 'string', default: process.env.AWS_REGION ?? DEFAULT_REGION },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const endpoint = values.aws
  ? undefined
  : (values.endpoint ?? `http://${localHost(process.env)}:${process.env.DOWNLINK_SQS_PORT || '9324'}`);
const sqs = new SQSClient(clientOptions(values.region, endpoint));
const queueUrl =
  values['queue-url'] ?? (await sqs.send(new GetQueueUrlCommand({ QueueName: 'downlink-notifications' }))).QueueUrl!;

let stop = false;
process.on('SIGINT', () => (stop = true));
process.on('SIGTERM', () => (stop = true));
// With --keep, what was read stays invisible (so each is printed once) until released at the end.
const kept: Message[] = [];
while (!stop) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: values.follow ? 5 : 0 }),
  );
  // Delivery is at least once: an application keeps the request_ids it has seen and skips repeats.
  for (const m of Messages) console.log(m.Body);
  if (values.keep) kept.push(...Messages);
  else if (Messages.length)
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  if (!Messages.length && !values.follow) break;
}
for (let i = 0; i < kept.length; i += 10)
  await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queueUrl,
      Entries: kept
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
    }),
  );
