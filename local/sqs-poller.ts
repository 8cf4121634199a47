import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import { DEFAULT_REGION, localArn } from '../shared/aws-names.ts';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

const toRecord = (m: Message, queueArn: string): SQSRecord => ({
  messageId: m.MessageId!,
  receiptHandle: m.ReceiptHandle!,
  body: m.Body ?? '',
  attributes: {
    ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: m.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: DEFAULT_REGION,
});

/**
 * The local stand-in for a Lambda event source mapping: long-polls a queue, hands batches to the handler
 * and deletes what it did not report as failed (ReportBatchItemFailures). A failed or crashed batch
 * stays in the queue and comes back after the visibility timeout, then goes to the dead-letter queue.
 * Up to `concurrency` batches run at once, as Lambda runs several invocations: it receives again as soon
 * as a batch is in hand and a slot is free, so a slow batch holds only its own slot.
 */
export const startSqsPoller = (opts: {
  sqs: SQSClient;
  queueUrl: string;
  batchSize: number;
  concurrency?: number;
  handler: SqsHandler;
  functionName: string;
  onError: (e: unknown) => void;
}) => {
  const abort = new AbortController();
  const queueArn = localArn('sqs', opts.queueUrl.split('/').pop()!);
  const concurrency = opts.concurrency ?? 1;
  const running = new Set<Promise<void>>();

  const handle = async (messages: Message[]) => {
    try {
      const result = await opts.handler(
        { Records: messages.map((m) => toRecord(m, queueArn)) },
        lambdaContext(opts.functionName),
      );
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      if (done.length)
        await opts.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
    } catch (e) {
      opts.onError(e);
    }
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        if (running.size >= concurrency) {
          await Promise.race(running);
          continue;
        }
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: opts.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        const work = handle(messages).finally(() => running.delete(work));
        running.add(work);
      } catch (e) {
        if (abort.signal.aborted) break;
        opts.onError(e);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const polling = loop();
  return {
    /** Finishes the batches in hand, then stops. */
    stop: async () => {
      abort.abort();
      await polling;
      await Promise.all(running);
    },
  };
};
