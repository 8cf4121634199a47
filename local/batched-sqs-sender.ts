import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

const MAX_BATCH = 10; // SQS SendMessageBatch limit
const GATHER_MS = 2;

interface Waiting {
  body: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * The local IoT rules' SQS action: messages sent within a couple of milliseconds go out in one
 * SendMessageBatch, as IoT Core's own rule engine does its work off the device's path. Each send still
 * resolves or fails on its own.
 */
export const batchedSqsSender = (sqs: SQSClient) => {
  const queues = new Map<string, { waiting: Waiting[]; timer?: NodeJS.Timeout }>();

  const flush = (url: string) => {
    const q = queues.get(url)!;
    q.timer = undefined;
    while (q.waiting.length) {
      const batch = q.waiting.splice(0, MAX_BATCH);
      sqs
        .send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: batch.map((w, i) => ({ Id: String(i), MessageBody: w.body })),
          }),
        )
        .then(
          (out) => {
            const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
            batch.forEach((w, i) => {
              const f = failed.get(String(i));
              if (f) w.reject(new Error(`SQS refused a message: ${f.Code} ${f.Message ?? ''}`));
              else w.resolve();
            });
          },
          (e: unknown) => {
            for (const w of batch) w.reject(e);
          },
        );
    }
  };

  return (url: string, body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      let q = queues.get(url);
      if (!q) queues.set(url, (q = { waiting: [] }));
      q.waiting.push({ body, resolve, reject });
      if (q.waiting.length >= MAX_BATCH) flush(url);
      else q.timer ??= setTimeout(() => flush(url), GATHER_MS);
    });
};
