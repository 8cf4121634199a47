import * as z from 'zod';
import {
  emptyProgress,
  INLINE_TARGETS,
  MAX_PACED_MINUTES,
  MAX_TARGETS,
  newTaskId,
  PREPARE_IN_CALL_MAX,
  TASK_TYPES,
  uniqueTargets,
} from '../domain/batch-tasks.ts';
import { errors } from '../errors.ts';
import { parseCompactUtc } from '../time.ts';
import type { Deps } from '../ports/deps.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { DEVICE_ID, parseInput } from '../validation.ts';
import { taskView } from './batch-task-view.ts';
import { parseTaskDocument } from './batch-subtask.ts';
import { runInput } from './batch-run-input.ts';
import { writeSubtasks } from './prepare-batch-task.ts';
import type { PrepareBatchTaskDeps } from './prepare-batch-task.ts';

/** The ports this use case uses. */
export type CreateBatchTaskDeps = Pick<Deps, 'batchTasks' | 'clock' | 'taskRunner'> & PrepareBatchTaskDeps;

// IoTDA §2.10 CreateBatchTask. task_name: CJK, letters, digits and "_", at most 128.
const TaskBody = z.object({
  task_name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\p{Script=Han}A-Za-z0-9_]+$/u, 'must be letters, digits, _ or CJK'),
  task_type: z.enum(TASK_TYPES),
  targets: z.array(z.string().regex(DEVICE_ID, 'must be device ids')).min(1).max(MAX_TARGETS),
  document: z.unknown(),
  task_policy: z
    .object({
      schedule_time: z
        .string()
        .regex(/^\d{8}T\d{6}Z$/, 'must be yyyyMMddTHHmmssZ')
        .optional(),
      retry_count: z.number().int().min(0).max(5).optional(),
      retry_interval: z.number().int().min(1).max(1440).optional(),
      // Beyond IoTDA, as AWS IoT Jobs offers them (docs/decisions.md).
      max_per_minute: z.number().int().min(1).max(100_000).optional(),
      abort_on_failure_percent: z.number().min(0.01).max(100).optional(),
      abort_min_count: z.number().int().min(1).max(MAX_TARGETS).optional(),
    })
    .refine((p) => (p.retry_count === undefined) === (p.retry_interval === undefined), {
      message: 'retry_count and retry_interval must be given together',
      path: ['retry_count'],
    })
    .refine((p) => p.abort_min_count === undefined || p.abort_on_failure_percent !== undefined, {
      message: 'abort_min_count needs abort_on_failure_percent',
      path: ['abort_min_count'],
    })
    .optional(),
});

// IoTDA §2.10: a schedule is at most 7 days ahead. A little in the past is taken as now (clock skew).
const MAX_SCHEDULE_AHEAD_MS = 7 * 24 * 3_600_000;
const SCHEDULE_SKEW_MS = 5 * 60_000;

/** When the run may start, after the checks that need the clock and the target count. */
const startTime = (policy: z.output<typeof TaskBody>['task_policy'], targetCount: number, now: number): number => {
  if (policy?.max_per_minute !== undefined && targetCount / policy.max_per_minute > MAX_PACED_MINUTES)
    throw errors.invalid(
      'task_policy.max_per_minute',
      `must be at least ${Math.ceil(targetCount / MAX_PACED_MINUTES)} for ${targetCount} targets: a paced run must end within ${MAX_PACED_MINUTES} minutes`,
    );
  if (policy?.schedule_time === undefined) return now;
  const at = parseCompactUtc(policy.schedule_time);
  if (Number.isNaN(at)) throw errors.invalid('task_policy.schedule_time', 'is not a real time');
  if (at < now - SCHEDULE_SKEW_MS) throw errors.invalid('task_policy.schedule_time', 'is in the past');
  if (at > now + MAX_SCHEDULE_AHEAD_MS)
    throw errors.invalid('task_policy.schedule_time', 'must be within the next 7 days');
  return Math.max(at, now);
};

/**
 * IoTDA CreateBatchTask (docs/decisions.md, "Batch at the limits"). Up to PREPARE_IN_CALL_MAX targets: the
 * task is stored Initializing, its sub-tasks written (Waitting, one per distinct target), the task moved to
 * Waitting, and its run started. More: the task Initializing, and its run started, whose first step writes the
 * sub-tasks; the answer is Initializing, within API Gateway's 29 s whatever the table's warmth. A run that
 * fails to start leaves it Fail. The targets (IoTDA's Task object) are kept on the task item up to
 * INLINE_TARGETS, else stored first in parts of TARGETS_PER_PART, kept until the task is deleted.
 */
export const createBatchTask = async (deps: CreateBatchTaskDeps, project: string, body: unknown) => {
  const input = parseInput(TaskBody, body);
  const document = parseTaskDocument(input.task_type, input.document);
  const targets = uniqueTargets(input.targets);
  const now = deps.clock.now();
  const startAt = startTime(input.task_policy, targets.length, now);
  const task: BatchTaskRecord = {
    project,
    taskId: newTaskId(now),
    taskName: input.task_name,
    taskType: input.task_type,
    document: JSON.parse(JSON.stringify(document)) as Record<string, unknown>,
    ...(input.task_policy ? { taskPolicy: input.task_policy } : {}),
    ...(targets.length <= INLINE_TARGETS ? { targets } : {}),
    status: 'Initializing',
    progress: { ...emptyProgress(), total: targets.length, waitting: targets.length },
    createdAt: now,
    startAt,
    run: 1,
    rerunFrom: 0,
  };
  const inCall = targets.length <= PREPARE_IN_CALL_MAX;
  // Before the task: a stored task then always has all its targets (the run's first step and ShowBatchTask rely on it).
  if (!task.targets) await deps.batchTasks.storeTargets(task, targets);
  // A fresh random id: taken only by a fault, which is a 500.
  if (!(await deps.batchTasks.create(task))) throw new Error(`batch task id ${task.taskId} taken`);
  if (inCall) await writeSubtasks(deps, task, targets);
  const status = inCall ? 'Waitting' : 'Initializing';
  try {
    await deps.taskRunner.start(runInput(task, task.run, startAt));
  } catch (e) {
    await deps.batchTasks.moveTask(task, [status], 'Fail', { statusDesc: 'The task could not be started.' });
    throw e;
  }
  return taskView({ ...task, status }, targets);
};
