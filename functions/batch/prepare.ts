import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { invokedHandler } from '../../shared/handler-stack.ts';
import { prepareBatchTask } from '../../shared/use-cases/prepare-batch-task.ts';
import { lambda } from '../deps.ts';

type RunRef = { project: string; taskId: string; run: number };

/** The batch state machine's first step: the event is the execution's input (task key, run). */
export const build = (deps: Deps) =>
  invokedHandler(
    deps,
    (event: RunRef) => prepareBatchTask(deps, { project: event.project, taskId: event.taskId, run: event.run }),
    (event) => event.taskId,
  );

export const handler = lambda(build, { notifier: sqsNotifier });
