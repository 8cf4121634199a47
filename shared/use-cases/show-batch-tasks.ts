import * as z from 'zod';
import {
  COUNTER_OF,
  FINISHED,
  INLINE_TARGETS,
  firstSeqBelow,
  subtaskId,
  SUBTASK_STATUSES,
  TASK_ID,
  TASK_STATUSES,
  TASK_TYPES,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { PAGING as Paging } from '../paging.ts';
import { DEVICE_ID, parseInput } from '../validation.ts';
import { findTask, subtaskView, taskView, type BatchTaskViewDeps } from './batch-task-view.ts';

/** The ports this use case uses. */
export type ShowBatchTasksDeps = Pick<Deps, 'batchTasks' | 'subtasks'> & BatchTaskViewDeps;

const ShowQuery = z.object({
  task_detail_status: z.enum(SUBTASK_STATUSES).optional(),
  target: z.string().regex(DEVICE_ID, 'must be a device id').optional(),
  ...Paging,
});

// IoTDA §2.10 ListBatchTasks: task_type is required; app_id is accepted and ignored (one space per project).
const ListQuery = z.object({
  task_type: z.enum(TASK_TYPES),
  status: z.enum(TASK_STATUSES).optional(),
  ...Paging,
});

export const parseTaskId = (value: string | undefined): string => {
  if (!value || !TASK_ID.test(value)) throw errors.invalid('task_id', 'must be 24 lowercase hexadecimal characters');
  return value;
};

/** One page of a task's sub-tasks and the count of all that match the filters (IoTDA §1 `page.count`). */
const subtaskPage = async (deps: ShowBatchTasksDeps, task: BatchTaskRecord, q: z.output<typeof ShowQuery>) => {
  const fromSeq = firstSeqBelow(q.marker);
  const status = q.task_detail_status;
  if (q.target !== undefined) {
    const sub = await deps.subtasks.subtaskOf(task, q.target);
    const matching = sub && (status === undefined || sub.status === status) ? [sub] : [];
    return {
      items: matching.filter((s) => s.seq >= fromSeq).slice(q.offset, q.offset + q.limit),
      count: matching.length,
    };
  }
  // The progress counters count by status (during a run they trail the sub-tasks by up to a second).
  const count = status === undefined ? task.progress.total : task.progress[COUNTER_OF[status]];
  // An ended task has exact counters: no sub-task in a status counted 0, so no chunk needs reading.
  if (count === 0 && FINISHED.includes(task.status)) return { items: [], count };
  const found = await deps.subtasks.subtasks(task, {
    status,
    fromSeq,
    total: task.progress.total,
    max: q.offset + q.limit,
  });
  return { items: found.slice(q.offset), count };
};

/** IoTDA ShowBatchTask: the task and one page of its sub-tasks, in target order (descending sub-task id). */
export const showBatchTask = async (
  deps: ShowBatchTasksDeps,
  project: string,
  rawTaskId: string | undefined,
  query: unknown,
) => {
  const taskId = parseTaskId(rawTaskId);
  const q = parseInput(ShowQuery, query);
  const task = await findTask(deps, { project, taskId });
  // A large task's targets are read beside its sub-tasks' page.
  const [page, targets] = await Promise.all([
    subtaskPage(deps, task, q),
    task.targets || task.progress.total <= INLINE_TARGETS
      ? task.targets
      : deps.batchTasks.targets(task, task.progress.total),
  ]);
  const last = page.items.at(-1);
  return {
    batchtask: taskView(task, targets?.length ? targets : undefined),
    task_details: page.items.map(subtaskView),
    page: { count: page.count, ...(last ? { marker: subtaskId(last.seq) } : {}) },
  };
};

/** IoTDA ListBatchTasks: newest first (descending task id), paged by marker and offset. */
export const listBatchTasks = async (deps: ShowBatchTasksDeps, project: string, query: unknown) => {
  const q = parseInput(ListQuery, query);
  const page = await deps.batchTasks.list(project, {
    taskType: q.task_type,
    status: q.status,
    below: q.marker,
    offset: q.offset,
    limit: q.limit,
  });
  const last = page.items.at(-1);
  return {
    batchtasks: page.items.map((t) => taskView(t)),
    page: { count: page.count, ...(last ? { marker: last.taskId } : {}) },
  };
};
