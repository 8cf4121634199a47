import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { clientOptions } from '../shared/deps.ts';

const USAGE = `Print the notification envelopes (CONTRACT.md §3) as an application would read them.

  npm run notifications [-- --follow] [--keep]

  --follow         keep waiting for new ones (Ctrl-C to stop)
  --keep           leave them in the queue (default: delete each once printed)
  --endpoint URL   SQS endpoint (default http://127.0.0.1:$DOWNLINK_SQS_PORT, 9324: the local runtime)
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
    region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const endpoint = values.aws ? undefined : (values.endpoint ?? `http://127.0.0.1:${process.env.DOWNLINK_SQS_PORT ?? '9324'}`);
const sqs = new SQSClient(clientOptions(values.region, endpoint));
const queueUrl =
  values['queue-url'] ?? (await sqs.send(new GetQueueUrlCommand({ QueueName: 'downlink-notifications' }))).QueueUrl!;

let stop = false;
process.on('SIGINT', () => (stop = true));
while (!stop) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: values.follow ? 5 : 0 }),
  );
  // Delivery is at least once: an application keeps the request_ids it has seen and skips repeats.
  for (const m of Messages) console.log(m.Body);
  if (Messages.length && !values.keep)
    await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  if (!Messages.length && !values.follow) break;
}
