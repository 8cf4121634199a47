import type { Deps } from '../../shared/deps.ts';
import type { TaskKey } from '../../shared/ports/batch-task-store.ts';
import { settleBatchTask } from '../../shared/use-cases/run-batch-task.ts';
import { lambda } from '../deps.ts';

/** The batch state machine's last step: the event is the execution input (it carries the task key). */
export const build = (deps: Deps) => async (event: TaskKey) => settleBatchTask(deps, { project: event.project, taskId: event.taskId });

export const handler = lambda(build);
