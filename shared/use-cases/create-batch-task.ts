import { z } from 'zod';
import { chunkList, emptyProgress, MAX_TARGETS, newTaskId, TASK_TYPES, uniqueTargets } from '../domain/batch-tasks.ts';
import type { Deps } from '../deps.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { DEVICE_ID, parseInput } from '../validation.ts';
import { notifyTaskStatus, taskView } from './batch-task-view.ts';
import { parseTaskDocument } from './batch-subtask.ts';

// IoTDA §2.10 CreateBatchTask. task_name: CJK, letters, digits and "_", at most 128.
const TaskBody = z.object({
  task_name: z.string().min(1).max(128).regex(/^[\p{Script=Han}A-Za-z0-9_]+$/u, 'must be letters, digits, _ or CJK'),
  task_type: z.enum(TASK_TYPES),
  targets: z.array(z.string().regex(DEVICE_ID, 'must be device ids')).min(1).max(MAX_TARGETS),
  document: z.unknown(),
  task_policy: z
    .object({
      // Stored and shown; scheduling and retries come in the next phase (docs/decisions.md).
      schedule_time: z.string().regex(/^\d{8}T\d{6}Z$/, 'must be yyyyMMddTHHmmssZ').optional(),
      retry_count: z.number().int().min(0).max(5).optional(),
      retry_interval: z.number().int().min(1).max(1440).optional(),
    })
    .refine((p) => (p.retry_count === undefined) === (p.retry_interval === undefined), {
      message: 'retry_count and retry_interval must be given together',
      path: ['retry_count'],
    })
    .optional(),
});

/**
 * IoTDA CreateBatchTask: the task is stored Initializing, its sub-tasks written (Waitting, one per distinct
 * target), the task moved to Waitting, and its run started. A run that fails to start leaves it Fail.
 */
export const createBatchTask = async (deps: Deps, project: string, body: unknown) => {
  const input = parseInput(TaskBody, body);
  const document = parseTaskDocument(input.task_type, input.document);
  const targets = uniqueTargets(input.targets);
  const now = deps.clock.now();
  const task: BatchTaskRecord = {
    project,
    taskId: newTaskId(now),
    taskName: input.task_name,
    taskType: input.task_type,
    document: JSON.parse(JSON.stringify(document)) as Record<string, unknown>,
    ...(input.task_policy ? { taskPolicy: input.task_policy } : {}),
    status: 'Initializing',
    progress: { ...emptyProgress(), total: targets.length, waitting: targets.length },
    createdAt: now,
  };
  await deps.batchTasks.create(task);
  await deps.batchTasks.addSubtasks(task, targets);
  await deps.batchTasks.moveTask(task, ['Initializing'], 'Waitting');
  await notifyTaskStatus(deps, task, 'Waitting', '');
  try {
    await deps.taskRunner.start({ project, taskId: task.taskId, chunks: chunkList(targets.length), reclaim: false });
  } catch (e) {
    await deps.batchTasks.moveTask(task, ['Waitting'], 'Fail', { statusDesc: 'The task could not be started.' });
    throw e;
  }
  return taskView({ ...task, status: 'Waitting' }, targets);
};
