import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

const MAX_BATCH = 10; // SQS SendMessageBatch limit

interface Waiting {
  body: string;
  delaySeconds?: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Sends made close together go out in one SendMessageBatch per queue (up to 10), each send still resolving
 * or failing on its own; a send with no company goes as a plain SendMessage. `gatherMs` 0 gathers the sends
 * of one event-loop turn (what a use case sends at once, at no added wait: the notifier); more waits that
 * long for company (the local IoT rules' SQS action, off the device's path as IoT Core's rule engine is).
 */
export const batchedSqsSender = (sqs: SQSClient, gatherMs = 0) => {
  const queues = new Map<string, { waiting: Waiting[]; scheduled: boolean }>();

  const flush = (url: string) => {
    const q = queues.get(url)!;
    q.scheduled = false;
    while (q.waiting.length) {
      const batch = q.waiting.splice(0, MAX_BATCH);
      if (batch.length === 1) {
        const [w] = batch as [Waiting];
        sqs
          .send(new SendMessageCommand({ QueueUrl: url, MessageBody: w.body, DelaySeconds: w.delaySeconds }))
          .then(() => w.resolve(), w.reject);
        continue;
      }
      sqs
        .send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: batch.map((w, i) => ({ Id: String(i), MessageBody: w.body, DelaySeconds: w.delaySeconds })),
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

  /** Resolves once SQS has the message; `delaySeconds` (0–900) holds it back that long. */
  return (url: string, body: string, delaySeconds?: number): Promise<void> =>
    new Promise((resolve, reject) => {
      let q = queues.get(url);
      if (!q) queues.set(url, (q = { waiting: [], scheduled: false }));
      q.waiting.push({ body, resolve, reject, ...(delaySeconds ? { delaySeconds } : {}) });
      if (q.scheduled) return;
      q.scheduled = true;
      if (gatherMs > 0) setTimeout(() => flush(url), gatherMs);
      else setImmediate(() => flush(url));
    });
};
