import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_REGION } from '../shared/aws-names.ts';
import { startPushReceiver } from '../tools/push-receiver.ts';
import { epochMs } from './support.ts';

/**
 * The push bench's application (bench/push.ts), in a process of its own as a real one would be, so the
 * runtime's process spends nothing on it: HTTP push receivers, and a reader of the notification queue.
 * Orders, each answered:
 * - `{ start: { token?, hang? } }` → `{ ref, url }`: a receiver (tools/push-receiver.ts);
 * - `{ close: ref }` → `{ closed: ref }`, after every push it had is reported;
 * - `{ read: { endpoint, queueUrl, count } }` → `{ last }`: reads the queue (4 pollers, 10 a receive, each
 *   batch deleted) until `count` have come; `last` is when the last came (epoch ms);
 * - `{ exit: true }` ends the process.
 * Unasked, every few milliseconds: `{ event: [[ref, request_id, arrival epoch ms, signature], ...] }`, one row
 * per push (the arrival time taken when it arrived).
 */
type Order =
  | { start: { token?: string; hang?: boolean } }
  | { close: number }
  | { read: { endpoint: string; queueUrl: string; count: number } }
  | { exit: true };

const receivers = new Map<number, Awaited<ReturnType<typeof startPushReceiver>>>();
let nextRef = 0;
let arrivals: [number, string, number, string][] = [];

const report = () => {
  if (!arrivals.length) return;
  process.send!({ event: arrivals });
  arrivals = [];
};
const reporting = setInterval(report, 5);

const readQueue = async (endpoint: string, queueUrl: string, count: number) => {
  const sqs = new SQSClient({
    region: DEFAULT_REGION,
    endpoint,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  let got = 0;
  let last = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (got < count) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (!Messages.length) continue;
        got += Messages.length;
        last = epochMs();
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }),
  );
  sqs.destroy();
  return last;
};

process.on('message', async (order: Order) => {
  if ('start' in order) {
    const ref = nextRef++;
    const receiver = await startPushReceiver({
      ...order.start,
      onPush: (p) => arrivals.push([ref, p.envelope.request_id, epochMs(), p.signature]),
    });
    receivers.set(ref, receiver);
    process.send!({ ref, url: receiver.url });
  } else if ('close' in order) {
    await receivers.get(order.close)?.close();
    receivers.delete(order.close);
    report();
    process.send!({ closed: order.close });
  } else if ('read' in order) {
    process.send!({ last: await readQueue(order.read.endpoint, order.read.queueUrl, order.read.count) });
  } else {
    clearInterval(reporting);
    await Promise.all([...receivers.values()].map((r) => r.close()));
    report();
    process.exit(0);
  }
});
process.send!({ ready: true });
