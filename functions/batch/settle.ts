import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { invokedHandler } from '../../shared/handler-stack.ts';
import { settleBatchTask, type SettleRef } from '../../shared/use-cases/settle-batch-task.ts';
import { lambda } from '../deps.ts';

/** The batch state machine's settle step: the event is the execution's state (task key, run, pass). */
export const build = (deps: Deps) =>
  invokedHandler(
    deps,
    (event: SettleRef) =>
      settleBatchTask(deps, {
        project: event.project,
        taskId: event.taskId,
        run: event.run,
        ...(event.pass ? { pass: event.pass } : {}),
      }),
    (event) => event.taskId,
  );

export const handler = lambda(build, { notifier: sqsNotifier });
