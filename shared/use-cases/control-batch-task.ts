import * as z from 'zod';
import {
  COUNTER_OF,
  FINISHED,
  RETRYABLE,
  RETRYABLE_SUBTASK,
  STOPPABLE,
  STOPPABLE_SUBTASK,
  uniqueTargets,
  type SubtaskStatus,
  type TaskStatus,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import { type ErrorBody, errors } from '../errors.ts';
import type { BatchTaskRecord, DeletedTask } from '../ports/batch-task-store.ts';
import { DEVICE_ID, parseInput } from '../validation.ts';
import { findTask, notifyTaskStatus, type BatchTaskViewDeps } from './batch-task-view.ts';
import { parseTaskId } from './show-batch-tasks.ts';
import { runInput } from './batch-run-input.ts';

/** The ports this use case uses. */
export type ControlBatchTaskDeps = Pick<Deps, 'batchTasks' | 'subtasks' | 'clock' | 'logger' | 'taskRunner'> &
  BatchTaskViewDeps;

// IoTDA §2.10 BatchTargets: at most 100 device ids; none means every sub-task the action applies to.
const TargetsBody = z.object({
  targets: z.array(z.string().regex(DEVICE_ID, 'must be device ids')).min(1).max(100).optional(),
});

/** IoTDA §2.10 Stop/Retry answer: one entry per target asked for. */
type TargetResult = { target: string; status: 'success' } | ({ target: string; status: 'failure' } & ErrorBody);

const wrongState = (task: BatchTaskRecord, action: string) => errors.batchTaskWrongState(task.status, action);

const notTarget = (target: string): TargetResult => ({
  target,
  status: 'failure',
  error_code: 'DOWNLINK.404003',
  error_msg: `The device is not a target of this task: ${target}`,
});

/** The named targets (repeats dropped) with their sub-tasks, where the task has one. */
const subtasksOf = async (deps: ControlBatchTaskDeps, task: BatchTaskRecord, targets: string[]) =>
  Promise.all(
    uniqueTargets(targets).map(async (target) => ({ target, sub: await deps.subtasks.subtaskOf(task, target) })),
  );

type Named = Awaited<ReturnType<typeof subtasksOf>>;

/**
 * Applies `to` to each named sub-task whose status is one of `from`, each move a compare-and-set with the
 * counters following; the answer says per target what happened.
 */
const moveTargets = (
  deps: ControlBatchTaskDeps,
  task: BatchTaskRecord,
  named: Named,
  from: readonly SubtaskStatus[],
  to: SubtaskStatus,
) =>
  Promise.all(
    named.map(async ({ target, sub }): Promise<TargetResult> => {
      if (!sub) return notTarget(target);
      if (!from.includes(sub.status) || !(await deps.subtasks.moveSubtask(task, sub, to)))
        return {
          target,
          status: 'failure',
          error_code: 'DOWNLINK.409002',
          error_msg: `The sub-task is ${sub.status}.`,
        };
      await deps.batchTasks.addProgress(task, { [COUNTER_OF[sub.status]]: -1, [COUNTER_OF[to]]: 1 });
      return { target, status: 'success' };
    }),
  );

/** Moves the task to its next run (notified when it runs again); a task moved meanwhile is a 409 as it now stands. */
const moveToNextRun = async (
  deps: ControlBatchTaskDeps,
  task: BatchTaskRecord,
  from: readonly TaskStatus[],
  to: TaskStatus,
  action: string,
  rerun: boolean,
) => {
  const run = task.run + 1;
  const changes = { run, statusDesc: '', ...(rerun ? { rerunFrom: run, startAt: deps.clock.now() } : {}) };
  if (!(await deps.batchTasks.moveTask(task, from, to, changes))) throw wrongState(await findTask(deps, task), action);
  if (to === 'Processing') await notifyTaskStatus(deps, { ...task, run }, 'Processing', '');
  return { ...task, status: to, run };
};

// A stop run converts what is left at once; a retry run paces from now.
const startRun = (deps: ControlBatchTaskDeps, task: BatchTaskRecord) =>
  deps.taskRunner.start(runInput(task, task.run, deps.clock.now()));

/** The stop or retry call's task, in a state that call accepts (else 409), and its targets body. */
const taskInState = async (
  deps: ControlBatchTaskDeps,
  project: string,
  rawTaskId: string | undefined,
  body: unknown,
  accepted: readonly BatchTaskRecord['status'][],
  action: string,
) => {
  const taskId = parseTaskId(rawTaskId);
  const input = parseInput(TargetsBody, body);
  const task = await findTask(deps, { project, taskId });
  if (!accepted.includes(task.status)) throw wrongState(task, action);
  return { task, input };
};

/**
 * IoTDA StopBatchTask. With targets: their sub-tasks not yet run become Stopped, the task runs on. Without:
 * the task goes Stopping and a new run (which supersedes the current one, waits included) stops every
 * sub-task not yet run, waits for those in flight, and ends the task Stopped.
 */
export const stopBatchTask = async (
  deps: ControlBatchTaskDeps,
  project: string,
  rawTaskId: string | undefined,
  body: unknown,
) => {
  const { task, input } = await taskInState(deps, project, rawTaskId, body, STOPPABLE, 'stopped');
  if (input.targets)
    return {
      targets: await moveTargets(deps, task, await subtasksOf(deps, task, input.targets), STOPPABLE_SUBTASK, 'Stopped'),
    };
  await startRun(deps, await moveToNextRun(deps, task, STOPPABLE, 'Stopping', 'stopped', false));
  return { targets: [] };
};

/**
 * IoTDA RetryBatchTask: a task that ended with failed or stopped sub-tasks runs them again (all of them, or
 * the named targets'), under a new run that the task moves back to Processing for.
 */
export const retryBatchTask = async (
  deps: ControlBatchTaskDeps,
  project: string,
  rawTaskId: string | undefined,
  body: unknown,
) => {
  const { task, input } = await taskInState(deps, project, rawTaskId, body, RETRYABLE, 'retried');
  if (!input.targets) {
    await startRun(deps, await moveToNextRun(deps, task, RETRYABLE, 'Processing', 'retried', true));
    return { targets: [] };
  }
  const named = await subtasksOf(deps, task, input.targets);
  // None of them can run again: the task stays as it ended.
  if (!named.some(({ sub }) => sub && RETRYABLE_SUBTASK.includes(sub.status)))
    return { targets: await moveTargets(deps, task, named, RETRYABLE_SUBTASK, 'Waitting') };
  // The task runs again first, so the sub-tasks' counter moves land on a running task.
  const running = await moveToNextRun(deps, task, RETRYABLE, 'Processing', 'retried', false);
  const results = await moveTargets(deps, running, named, RETRYABLE_SUBTASK, 'Waitting');
  await startRun(deps, running);
  return { targets: results };
};

// How long a delete call removes sub-tasks itself before leaving the rest to the batch sweeper.
const PURGE_IN_CALL_MS = 10_000;

/** IoTDA DeleteBatchTask: only a finished task; it disappears at once, its sub-tasks are removed after. */
export const deleteBatchTask = async (deps: ControlBatchTaskDeps, project: string, rawTaskId: string | undefined) => {
  const key = { project, taskId: parseTaskId(rawTaskId) };
  const task = await findTask(deps, key);
  if (!FINISHED.includes(task.status)) throw wrongState(task, 'deleted');
  // Lost to a concurrent move: a 409 (or 404) as the task now stands, as the stop and retry calls answer.
  if (!(await deps.batchTasks.markDeleted(key))) throw wrongState(await findTask(deps, key), 'deleted');
  const purge = purgeDeleted(deps, { ...key, total: task.progress.total }).catch((e: unknown) =>
    deps.logger.warn('purge left to the sweeper', { taskId: key.taskId, error: e as Error }),
  );
  await Promise.race([purge, new Promise((r) => setTimeout(r, PURGE_IN_CALL_MS).unref())]);
};

/** The batch sweeper: removes what deletes left behind (a call cut short, or a task too large for one call). */
export const purgeDeletedBatchTasks = async (deps: ControlBatchTaskDeps): Promise<number> => {
  const deleted = await deps.batchTasks.deleting(100);
  for (const task of deleted) await purgeDeleted(deps, task);
  return deleted.length;
};

/** A deleted task's sub-tasks, then its targets and itself (last: a purge cut short is found again). */
const purgeDeleted = async (deps: ControlBatchTaskDeps, task: DeletedTask) => {
  await deps.subtasks.removeAll(task, task.total);
  await deps.batchTasks.purgeDeleted(task);
};
