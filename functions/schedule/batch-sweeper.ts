import type { Context } from 'aws-lambda';
import { sfnTaskRunner } from '../../shared/adapters/aws/sfn-task-runner.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { purgeDeletedBatchTasks } from '../../shared/use-cases/control-batch-task.ts';
import { runAlone } from '../../shared/use-cases/run-alone.ts';
import { reviveBatchTasks } from '../../shared/use-cases/run-batch-task.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => (_event: unknown, context: Context) =>
  runAlone(deps, 'batch-sweeper', context.getRemainingTimeInMillis(), async () => ({
    revived: await reviveBatchTasks(deps),
    purged: await purgeDeletedBatchTasks(deps),
  }));

export const handler = lambda(build, { notifier: sqsNotifier, taskRunner: sfnTaskRunner });
