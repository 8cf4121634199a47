import type { Deps } from '../../shared/deps.ts';
import type { TaskKey } from '../../shared/ports/batch-task-store.ts';
import { settleBatchTask, type SettleResult } from '../../shared/use-cases/run-batch-task.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { lambda } from '../deps.ts';

/** The batch state machine's settle step: the event is the execution's state (task key, run, the last settle result). */
export const build = (deps: Deps) => async (event: TaskKey & { run: number; settled?: SettleResult }) =>
  settleBatchTask(deps, { project: event.project, taskId: event.taskId, run: event.run, ...(event.settled ? { settled: event.settled } : {}) });

export const handler = lambda(build, { notifier: sqsNotifier });
