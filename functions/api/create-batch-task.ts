import { apiHandler } from '../../shared/http/api-handler.ts';
import { createBatchTask } from '../../shared/use-cases/create-batch-task.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { sfnTaskRunner } from '../../shared/adapters/aws/sfn-task-runner.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 201, body: await createBatchTask(deps, req.project, req.json()) }));

export const handler = lambda(build, { notifier: sqsNotifier, taskRunner: sfnTaskRunner });
