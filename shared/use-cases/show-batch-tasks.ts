import { z } from 'zod';
import { FIRST_MARKER, firstSeqBelow, subtaskId, SUBTASK_STATUSES, TASK_ID, TASK_STATUSES, TASK_TYPES } from '../domain/batch-tasks.ts';
import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { DEVICE_ID, parseInput } from '../validation.ts';
import { findTask, subtaskView, taskView } from './batch-task-view.ts';

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

// IoTDA §1 paging: limit 1..50 (10), marker 24 hex (ffff...: from the start), offset 0..500 (0).
const Paging = {
  limit: integer(1, 50, 10),
  marker: z.string().regex(/^[0-9a-fA-F]{24}$/, 'must be 24 hexadecimal characters').transform((m) => m.toLowerCase()).default(FIRST_MARKER),
  offset: integer(0, 500, 0),
};

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

const parseTaskId = (value: string | undefined): string => {
  if (!value || !TASK_ID.test(value)) throw errors.invalid('task_id', 'must be 24 lowercase hexadecimal characters');
  return value;
};

/** IoTDA ShowBatchTask: the task and one page of its sub-tasks, in target order (descending sub-task id). */
export const showBatchTask = async (deps: Deps, project: string, rawTaskId: string | undefined, query: unknown) => {
  const taskId = parseTaskId(rawTaskId);
  const q = parseInput(ShowQuery, query);
  const task = await findTask(deps, { project, taskId });
  const page = await deps.batchTasks.subtasks(
    { project, taskId },
    { status: q.task_detail_status, target: q.target, fromSeq: firstSeqBelow(q.marker), offset: q.offset, limit: q.limit },
  );
  const last = page.items.at(-1);
  return {
    batchtask: taskView(task),
    task_details: page.items.map(subtaskView),
    page: { count: page.count, ...(last ? { marker: subtaskId(last.seq) } : {}) },
  };
};

/** IoTDA ListBatchTasks: newest first (descending task id), paged by marker and offset. */
export const listBatchTasks = async (deps: Deps, project: string, query: unknown) => {
  const q = parseInput(ListQuery, query);
  const page = await deps.batchTasks.list(project, { taskType: q.task_type, status: q.status, below: q.marker, offset: q.offset, limit: q.limit });
  const last = page.items.at(-1);
  return {
    batchtasks: page.items.map((t) => taskView(t)),
    page: { count: page.count, ...(last ? { marker: last.taskId } : {}) },
  };
};
