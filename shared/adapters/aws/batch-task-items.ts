import * as z from 'zod';
import { SUBTASK_STATUSES, TASK_STATUSES, TASK_TYPES } from '../../domain/batch-tasks.ts';
import type { BatchTaskRecord, DeletedTask, SubtaskRecord } from '../../ports/batch-task-store.ts';
import type { SubtaskState } from '../../ports/subtask-store.ts';

/**
 * Batch items as stored, read through schemas: an item the code did not write (or an older shape) fails here, by
 * name, instead of travelling on half-typed. Attributes added over time have their defaults here.
 */

const TaskPolicyItem = z.object({
  schedule_time: z.string().optional(),
  retry_count: z.number().optional(),
  retry_interval: z.number().optional(),
  max_per_minute: z.number().optional(),
  abort_on_failure_percent: z.number().optional(),
  abort_min_count: z.number().optional(),
});

// The counters (PROGRESS_FIELDS) as the task item holds them: progress_{field} (batch-task-keys.ts counterAttribute).
const counter = z.number().default(0);
const ProgressItem = z.object({
  progress_total: counter,
  progress_processing: counter,
  progress_success: counter,
  progress_fail: counter,
  progress_waitting: counter,
  progress_fail_wait_retry: counter,
  progress_stopped: counter,
  progress_removed: counter,
});

const TaskItem = z.object({
  ...ProgressItem.shape,
  project: z.string(),
  taskId: z.string(),
  taskName: z.string(),
  taskType: z.enum(TASK_TYPES),
  document: z.record(z.string(), z.unknown()),
  taskPolicy: TaskPolicyItem.optional(),
  targets: z.array(z.string()).optional(),
  status: z.enum(TASK_STATUSES),
  statusDesc: z.string().optional(),
  createdAt: z.number(),
  startAt: z.number().optional(),
  // Tasks stored before runs were numbered count as run 0.
  run: z.number().default(0),
  rerunFrom: z.number().default(0),
  pass: z.number().optional(),
});

export const taskFromItem = (item: unknown): BatchTaskRecord => {
  const t = TaskItem.parse(item);
  return {
    project: t.project,
    taskId: t.taskId,
    taskName: t.taskName,
    taskType: t.taskType,
    document: t.document,
    ...(t.taskPolicy ? { taskPolicy: t.taskPolicy } : {}),
    ...(t.targets ? { targets: t.targets } : {}),
    status: t.status,
    ...(t.statusDesc !== undefined ? { statusDesc: t.statusDesc } : {}),
    progress: {
      total: t.progress_total,
      processing: t.progress_processing,
      success: t.progress_success,
      fail: t.progress_fail,
      waitting: t.progress_waitting,
      fail_wait_retry: t.progress_fail_wait_retry,
      stopped: t.progress_stopped,
      removed: t.progress_removed,
    },
    createdAt: t.createdAt,
    startAt: t.startAt ?? t.createdAt,
    run: t.run,
    rerunFrom: t.rerunFrom,
    ...(t.pass !== undefined ? { pass: t.pass } : {}),
  };
};

export const deletedTaskFromItem = (item: unknown): DeletedTask => {
  const t = TaskItem.pick({ project: true, taskId: true, progress_total: true }).parse(item);
  return { project: t.project, taskId: t.taskId, total: t.progress_total };
};

const TargetPartItem = z.object({ targets: z.array(z.string()) });
export const targetsFromPart = (item: unknown): string[] => (item ? TargetPartItem.parse(item).targets : []);

const SubtaskStateItem = z.object({
  status: z.enum(SUBTASK_STATUSES),
  claimedAt: z.number().optional(),
  retryAt: z.number().optional(),
});

// Zod leaves an absent optional attribute absent, as the records have it.
export const subtaskStateFromItem = (item: unknown): SubtaskState => SubtaskStateItem.parse(item);

const SubtaskItem = z.object({
  ...SubtaskStateItem.shape,
  taskId: z.string(),
  seq: z.number(),
  target: z.string(),
  output: z.string().optional(),
  error: z.object({ error_code: z.string(), error_msg: z.string() }).optional(),
  finishedAt: z.number().optional(),
  run: z.number().optional(),
  attempt: z.number().optional(),
});

export const subtaskFromItem = (item: unknown): SubtaskRecord => SubtaskItem.parse(item);

/** The seq of a sub-task item read with a `seq` projection. */
export const seqOfItem = (item: unknown): number => SubtaskItem.pick({ seq: true }).parse(item).seq;
