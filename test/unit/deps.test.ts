import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../shared/config.ts';
import { createDeps } from '../../functions/create-deps.ts';
import { SqsNotifier, sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';

describe('createDeps', () => {
  const config = configFromEnv({ DOWNLINK_TABLE: 't' });

  it('builds only the adapters it is given; a port built without one says which when used', async () => {
    const deps = createDeps(config, { notifier: sqsNotifier });
    expect(deps.notifier).toBeInstanceOf(SqsNotifier);
    await expect(
      deps.taskRunner.start({ project: 'p', taskId: 't', run: 1, chunks: [0], startAt: '', reclaim: false }),
    ).rejects.toThrow(/built without the taskRunner adapter/);
    await expect(deps.publisher.publish('oc/devices/d/x', 'x', 1)).rejects.toThrow(
      /built without the publisher adapter/,
    );
  });
});
