import type { Deps } from '../ports/deps.ts';
import type { BatchTaskRecord, TaskKey } from '../ports/batch-task-store.ts';
import { notifyTaskStatus, type BatchTaskViewDeps } from './batch-task-view.ts';

/** The ports this use case uses. */
export type PrepareBatchTaskDeps = Pick<Deps, 'batchTasks' | 'subtasks'> & BatchTaskViewDeps;

/**
 * The state machine's first step: a task created Initializing (more targets than its create call writes, or
 * a create call that died before it wrote them) gets its sub-tasks from the targets the call stored (on the
 * task item, or its parts), each put only if missing (a retried step, or a second
 * execution, adds what is missing and resets nothing), then moves to Waitting. A task whose targets are not
 * all stored lost its create call before it finished (no 201 was sent) and ends Fail.
 */
export const prepareBatchTask = async (
  deps: PrepareBatchTaskDeps,
  ref: TaskKey & { run: number },
): Promise<{ status: string }> => {
  const task = await deps.batchTasks.get(ref);
  if (!task || task.run !== ref.run || task.status !== 'Initializing') return { status: task?.status ?? 'gone' };
  const targets = task.targets ?? (await deps.batchTasks.targets(task, task.progress.total));
  if (targets.length !== task.progress.total) {
    await failInterrupted(deps, task);
    return { status: 'Fail' };
  }
  // The stored targets stay: ShowBatchTask shows them until the task is deleted.
  await writeSubtasks(deps, task, targets);
  return { status: 'Waitting' };
};

/** Sub-tasks written (those missing), then the task moved Initializing → Waitting and notified. */
export const writeSubtasks = async (deps: PrepareBatchTaskDeps, task: BatchTaskRecord, targets: readonly string[]) => {
  await deps.subtasks.addSubtasks(task, targets);
  if (await deps.batchTasks.moveTask(task, ['Initializing'], 'Waitting'))
    await notifyTaskStatus(deps, task, 'Waitting', '');
};

/** A task that lost its create call before the targets were all stored: its creator was not answered 201. */
const failInterrupted = async (deps: PrepareBatchTaskDeps, task: BatchTaskRecord) => {
  const statusDesc = 'The task was interrupted while it was being created.';
  if (await deps.batchTasks.moveTask(task, ['Initializing'], 'Fail', { statusDesc }))
    await notifyTaskStatus(deps, task, 'Fail', statusDesc);
};
