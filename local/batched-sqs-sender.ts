import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import DataLoader from 'dataloader';

const MAX_BATCH = 10; // SQS SendMessageBatch limit
const GATHER_MS = 2;

/** One SendMessageBatch; each message's own outcome: nothing, or the error SQS gave for it. */
const sendBatch = async (sqs: SQSClient, url: string, bodies: readonly string[]): Promise<(undefined | Error)[]> => {
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
    }),
  );
  const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
  return bodies.map((_, i) => {
    const f = failed.get(String(i));
    return f ? new Error(`SQS refused a message: ${f.Code} ${f.Message ?? ''}`) : undefined;
  });
};

/**
 * The local IoT rules' SQS action: messages sent within a couple of milliseconds go out in one
 * SendMessageBatch (DataLoader, one per queue), as IoT Core's own rule engine does its work off the
 * device's path. Each send still resolves or fails on its own.
 */
export const batchedSqsSender = (sqs: SQSClient) => {
  const loaders = new Map<string, DataLoader<string, undefined>>();
  const loaderOf = (url: string) => {
    let loader = loaders.get(url);
    if (!loader)
      loaders.set(
        url,
        (loader = new DataLoader<string, undefined>((bodies) => sendBatch(sqs, url, bodies), {
          cache: false,
          maxBatchSize: MAX_BATCH,
          batchScheduleFn: (dispatch) => setTimeout(dispatch, GATHER_MS),
        })),
      );
    return loader;
  };
  return (url: string, body: string): Promise<void> => loaderOf(url).load(body);
};
