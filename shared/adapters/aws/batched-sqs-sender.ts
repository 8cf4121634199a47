import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import DataLoader from 'dataloader';

const MAX_BATCH = 10; // SQS SendMessageBatch limit

interface Outgoing {
  body: string;
  /** 0–900: SQS holds the message back that long. */
  delaySeconds?: number;
}

// SendMessageBatch takes 1 MiB in all; envelopes are a few hundred bytes, the split keeps any mix well under.
const MAX_BATCH_BYTES = 900_000;

/** Splits messages into groups whose bodies together stay under SendMessageBatch's size limit. */
const bySize = (messages: readonly Outgoing[]): Outgoing[][] => {
  const out: Outgoing[][] = [];
  let current: Outgoing[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.body);
    if (current.length && bytes + size > MAX_BATCH_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
};

/** One SendMessageBatch (a plain SendMessage for one); each message's own outcome: nothing, or SQS's error. */
const sendGroup = async (
  sqs: SQSClient,
  url: string,
  messages: readonly Outgoing[],
): Promise<(undefined | Error)[]> => {
  if (messages.length === 1) {
    const [m] = messages as [Outgoing];
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: m.body, DelaySeconds: m.delaySeconds }));
    return [undefined];
  }
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.body, DelaySeconds: m.delaySeconds })),
    }),
  );
  const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
  return messages.map((_, i) => {
    const f = failed.get(String(i));
    return f ? new Error(`SQS refused a message: ${f.Code} ${f.Message ?? ''}`) : undefined;
  });
};

/** SendMessageBatch calls for up to ten messages, as few as their size allows; each message's own outcome. */
const sendBatch = async (sqs: SQSClient, url: string, messages: readonly Outgoing[]) =>
  (await Promise.all(bySize(messages).map((group) => sendGroup(sqs, url, group)))).flat();

/**
 * Sends made close together go out in one SendMessageBatch per queue (DataLoader, one per queue), each send
 * still resolving or failing on its own; a send with no company goes as a plain SendMessage. `gatherMs` 0
 * gathers the sends of one turn (what a use case sends at once, at no added wait: the notifier, push
 * retries); more waits that long for company (the local IoT rules' SQS action, off the device's path as IoT
 * Core's rule engine is).
 */
export const batchedSqsSender = (sqs: SQSClient, gatherMs = 0) => {
  const loaders = new Map<string, DataLoader<Outgoing, undefined>>();
  const loaderOf = (url: string) => {
    let loader = loaders.get(url);
    if (!loader)
      loaders.set(
        url,
        (loader = new DataLoader<Outgoing, undefined>((messages) => sendBatch(sqs, url, messages), {
          cache: false,
          maxBatchSize: MAX_BATCH,
          ...(gatherMs > 0 ? { batchScheduleFn: (dispatch: () => void) => setTimeout(dispatch, gatherMs) } : {}),
        })),
      );
    return loader;
  };
  return (url: string, body: string, delaySeconds?: number): Promise<void> =>
    loaderOf(url).load(delaySeconds ? { body, delaySeconds } : { body });
};
