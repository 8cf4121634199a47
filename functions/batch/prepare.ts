import type { Deps } from '../../shared/ports/deps.ts';
import { prepareBatchTask } from '../../shared/use-cases/run-batch-task.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { lambda } from '../deps.ts';

/** The batch state machine's first step: the event is the execution's input (task key, run). */
export const build = (deps: Deps) => async (event: { project: string; taskId: string; run: number }) =>
  prepareBatchTask(deps, { project: event.project, taskId: event.taskId, run: event.run });

export const handler = lambda(build, { notifier: sqsNotifier });
