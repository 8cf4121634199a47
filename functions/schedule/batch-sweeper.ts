import { sfnTaskRunner } from '../../shared/adapters/aws/sfn-task-runner.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { scheduledHandler } from '../../shared/handler-stack.ts';
import { purgeDeletedBatchTasks } from '../../shared/use-cases/control-batch-task.ts';
import { reviveBatchTasks } from '../../shared/use-cases/revive-batch-tasks.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  scheduledHandler(deps, 'batch-sweeper', async () => ({
    revived: await reviveBatchTasks(deps),
    purged: await purgeDeletedBatchTasks(deps),
  }));

export const handler = lambda(build, { notifier: sqsNotifier, taskRunner: sfnTaskRunner });
