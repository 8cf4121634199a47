import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Deps } from './deps.ts';

/**
 * Runs `each` on every record of an SQS batch and reports the failures, so only they come back
 * (Lambda's ReportBatchItemFailures; the local poller honours the same answer).
 */
export const forEachRecord =
  (deps: Deps, each: (body: unknown) => Promise<unknown>) =>
  async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(
      event.Records.map(async (r) => {
        let body: unknown;
        try {
          body = JSON.parse(r.body);
        } catch {
          deps.logger.warn('dropping a record that is not JSON', { messageId: r.messageId });
          return;
        }
        await each(body);
      }),
    );
    const batchItemFailures = results.flatMap((res, i) => {
      if (res.status === 'fulfilled') return [];
      deps.logger.error('record failed', { messageId: event.Records[i]!.messageId, error: res.reason as Error });
      return [{ itemIdentifier: event.Records[i]!.messageId }];
    });
    return { batchItemFailures };
  };
