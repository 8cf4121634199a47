import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Deps } from './ports/deps.ts';
import { handlerStack, type LambdaHandler } from './handler-stack.ts';

/** The ports it uses. */
export type SqsBatchDeps = Pick<Deps, 'logger' | 'telemetry'>;

/**
 * Runs `each` on every record of an SQS batch and reports the failures, so only they come back
 * (Lambda's ReportBatchItemFailures; the local poller honours the same answer). Records with the same
 * `orderKey` run one after another, in queue order (so one device's events do not race each other's
 * conditional writes); records with different keys run concurrently. The queue handlers' stack (handler-stack.ts).
 */
export const forEachRecord = (
  deps: SqsBatchDeps,
  each: (body: unknown) => Promise<unknown>,
  orderKey: (body: unknown) => string | undefined = () => undefined,
): LambdaHandler<SQSEvent, SQSBatchResponse> =>
  handlerStack<SQSEvent, SQSBatchResponse>(deps.telemetry).handler(async (event) => {
    const bodies = event.Records.map((r) => {
      try {
        return { ok: true as const, value: JSON.parse(r.body) as unknown };
      } catch {
        deps.logger.warn('dropping a record that is not JSON', { messageId: r.messageId });
        return { ok: false as const };
      }
    });
    const chains = new Map<string, Promise<unknown>>();
    const results = await Promise.allSettled(
      bodies.map((b, i) => {
        if (!b.ok) return Promise.resolve();
        const key = orderKey(b.value) ?? `#${i}`;
        const run = (chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => each(b.value));
        chains.set(key, run);
        return run;
      }),
    );
    const batchItemFailures = results.flatMap((res, i) => {
      if (res.status === 'fulfilled') return [];
      deps.logger.error('record failed', { messageId: event.Records[i]!.messageId, error: res.reason as Error });
      return [{ itemIdentifier: event.Records[i]!.messageId }];
    });
    return { batchItemFailures };
  });
