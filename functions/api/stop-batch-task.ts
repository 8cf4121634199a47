import { apiHandler } from '../../shared/http/api-handler.ts';
import { stopBatchTask } from '../../shared/use-cases/control-batch-task.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { sfnTaskRunner } from '../../shared/adapters/aws/sfn-task-runner.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await stopBatchTask(deps, req.project, req.params.task_id, req.optionalJson()),
  }));

export const handler = lambda(build, { notifier: sqsNotifier, taskRunner: sfnTaskRunner });
