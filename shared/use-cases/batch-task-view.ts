import { envelope } from '../domain/notifications.ts';
import type { TaskStatus } from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { stableUuid } from '../ids.ts';
import type { BatchTaskRecord, SubtaskRecord, TaskKey } from '../ports/batch-task-store.ts';
import { compactUtc } from '../time.ts';

/** The ports this use case uses. */
export type BatchTaskViewDeps = Pick<Deps, 'batchTasks' | 'clock' | 'notifier'>;

/**
 * IoTDA §2.10 task object. `targets`: those given, or the ones kept on the task (ListBatchTasks rows of a
 * task over INLINE_TARGETS go without; docs/decisions.md).
 */
export const taskView = (t: BatchTaskRecord, targets = t.targets) => ({
  task_id: t.taskId,
  task_name: t.taskName,
  task_type: t.taskType,
  ...(targets ? { targets } : {}),
  document: t.document,
  ...(t.taskPolicy ? { task_policy: t.taskPolicy } : {}),
  status: t.status,
  status_desc: t.statusDesc ?? '',
  task_progress: t.progress,
  create_time: compactUtc(t.createdAt),
});

/** IoTDA §2.10 TaskDetail. */
export const subtaskView = (s: SubtaskRecord) => ({
  target: s.target,
  status: s.status,
  ...(s.output !== undefined ? { output: s.output } : {}),
  ...(s.error ? { error: s.error } : {}),
});

/** A task of this project; another project's task is as unknown as a missing one (CONTRACT.md §1). */
export const findTask = async (deps: BatchTaskViewDeps, key: TaskKey): Promise<BatchTaskRecord> => {
  const task = await deps.batchTasks.get(key);
  if (!task) throw errors.batchTaskNotFound(key.taskId);
  return task;
};

/**
 * IoTDA §5.5: `batchtask`/`update`, no header, body with app_id, task_id, task_type, status, status_desc.
 * The request_id comes from the task, its run and the status, so a repeated notice of one change can be dropped
 * while the same status reached again by a later run (a retry) is a new notice.
 */
export const notifyTaskStatus = (deps: BatchTaskViewDeps, t: BatchTaskRecord, status: TaskStatus, statusDesc: string) =>
  deps.notifier.send(
    envelope({
      resource: 'batchtask',
      event: 'update',
      at: deps.clock.now(),
      requestId: stableUuid('batchtask', t.project, t.taskId, String(t.run), status),
      body: { app_id: t.project, task_id: t.taskId, task_type: t.taskType, status, status_desc: statusDesc },
    }),
  );
