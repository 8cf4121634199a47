import {
  abandonedBefore,
  FINISHED,
  progressOf,
  settledDescription,
  settledStatus,
  waitTimestamp,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import type { TaskKey } from '../ports/batch-task-store.ts';
import { notifyTaskStatus, type BatchTaskViewDeps } from './batch-task-view.ts';

/** The ports this use case uses. */
export type SettleBatchTaskDeps = Pick<Deps, 'batchTasks' | 'subtasks' | 'clock' | 'config'> & BatchTaskViewDeps;

/**
 * What settle passes on: when another pass over the chunks is due (retries, or a stop waiting for sub-tasks
 * in flight), and its number; the execution then starts that pass as a new execution and ends.
 */
export interface SettleResult {
  status: string;
  retryAt?: string;
  pass?: number;
}

/** What settle is given: the task's run, the pass this execution is (absent: the first). */
export type SettleRef = TaskKey & { run: number; pass?: number };

// How soon a stopping task looks again at sub-tasks still in flight.
const STOP_RECHECK_MS = 2_000;

/**
 * After each pass over the chunks: counters recounted from the sub-tasks themselves (an ADD lost to a crash
 * is repaired here), then either another pass (policy retries due later, or a stop waiting for sub-tasks in
 * flight), recorded on the task so the sweeper knows which execution to look for, or the final status
 * (IoTDA §6.6) in one conditional write, notified once.
 */
export const settleBatchTask = async (deps: SettleBatchTaskDeps, ref: SettleRef): Promise<SettleResult> => {
  const task = await deps.batchTasks.get(ref);
  if (!task) return { status: 'gone' };
  if (task.run !== ref.run || FINISHED.includes(task.status)) return { status: task.status };
  const states = await deps.subtasks.subtaskStates(ref, task.progress.total);
  const progress = progressOf(states.map((s) => s.status));
  const now = deps.clock.now();
  const pass = ref.pass ?? 1;
  const again = async (at: number): Promise<SettleResult> => {
    // Lost to a status move (a stop, an abort) or a newer run: settle again as the task now stands.
    if (!(await deps.batchTasks.moveTask(task, [task.status], task.status, { pass: pass + 1 })))
      return settleBatchTask(deps, ref);
    return { status: task.status, retryAt: waitTimestamp(at), pass: pass + 1 };
  };
  const inFlight = states.some(
    (s) => s.status === 'Processing' && (s.claimedAt ?? 0) >= abandonedBefore(now, deps.config.commandTimeoutMs),
  );
  // A stop ends once what is in flight has come back; a running task also waits for its retries.
  if (inFlight) return again(now + STOP_RECHECK_MS);
  const retries = states.filter((s) => s.status === 'FailWaitRetry').map((s) => s.retryAt ?? now);
  // Each pass runs every due retry; more passes than the policy allows mean the chunks are not running them.
  const maxPasses = (task.taskPolicy?.retry_count ?? 0) + 2;
  if (task.status !== 'Stopping' && retries.length && pass <= maxPasses)
    return again(Math.max(now, Math.min(...retries)));

  const status = task.status === 'Stopping' ? 'Stopped' : settledStatus(progress);
  const statusDesc =
    status === 'Stopped'
      ? task.statusDesc || `Stopped: ${progress.stopped} sub-tasks did not run.`
      : settledDescription(status, progress);
  if (await deps.batchTasks.moveTask(task, [task.status], status, { statusDesc, progress }))
    await notifyTaskStatus(deps, task, status, statusDesc);
  return { status };
};
