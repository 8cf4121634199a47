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
 */
export const startSqsPoller = (opts: {
  sqs: SQSClient;
  queueUrl: string;
  batchSize: number;
  handler: SqsHandler;
  functionName: string;
  onError: (e: unknown) => void;
}) => {
  const abort = new AbortController();
  const queueArn = localArn('sqs', opts.queueUrl.split('/').pop()!);
  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
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
        if (abort.signal.aborted) break;
        opts.onError(e);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const running = loop();
  return {
    /** Finishes the batch in hand, then stops. */
    stop: async () => {
      abort.abort();
      await running;
    },
  };
};
