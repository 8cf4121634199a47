import {
  abortReason,
  chunkList,
  chunkRange,
  COUNTER_OF,
  FINISHED,
  paceSlot,
  progressOf,
  retryAfterFailure,
  runnableNow,
  settledDescription,
  settledStatus,
  STOPPABLE_SUBTASK,
  waitTimestamp,
  type ProgressField,
  type SubtaskResult,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import type { BatchTaskRecord, SubtaskRecord, TaskKey } from '../ports/batch-task-store.ts';
import type { BatchRunInput } from '../ports/task-runner.ts';
import { notifyTaskStatus, type BatchTaskViewDeps } from './batch-task-view.ts';
import { runSubtaskAction, type BatchSubtaskDeps } from './batch-subtask.ts';

/** The ports this use case uses. */
export type RunBatchTaskDeps = Pick<Deps, 'batchTasks' | 'clock' | 'config' | 'logger' | 'taskRunner'> &
  BatchTaskViewDeps &
  BatchSubtaskDeps;

/** What a Map iteration passes: a reference to one chunk of one run, never its targets. */
export interface ChunkRef extends TaskKey {
  chunk: number;
  run: number;
  /** The run resumes a dead one: Processing sub-tasks were abandoned, run them again now. */
  reclaim?: boolean;
  /** Set on the way out when the chunk has paced sub-tasks left: the iteration waits until then and comes back. */
  waitUntil?: string;
}

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

// A claim older than one sync wait plus this was left by a worker that died (Lambda timeout or crash).
const CLAIM_MARGIN_MS = 30_000;
// How soon a stopping task looks again at sub-tasks still in flight.
const STOP_RECHECK_MS = 2_000;

const staleBefore = (deps: RunBatchTaskDeps, now: number) => now - deps.config.commandTimeoutMs - CLAIM_MARGIN_MS;

// How often a running chunk writes its counter moves: often enough to watch, rarely enough to spare the task item.
const PROGRESS_FLUSH_MS = 1_000;

type Delta = Partial<Record<ProgressField, number>>;

/**
 * A chunk's counter moves, summed and written as one ADD per second and at the end. One ADD per sub-task
 * would make the task item every chunk's hot spot; a lost flush is repaired by settle's recount.
 */
const progressBuffer = (deps: RunBatchTaskDeps, key: TaskKey & { run: number }) => {
  let pending: Delta = {};
  let writing = Promise.resolve();
  const flush = () => {
    const delta = pending;
    pending = {};
    writing = writing.then(() =>
      deps.batchTasks
        .addProgress(key, delta)
        .catch((e: unknown) => deps.logger.warn('progress not written', { taskId: key.taskId, error: e as Error })),
    );
    return writing;
  };
  const timer = setInterval(() => void flush(), PROGRESS_FLUSH_MS);
  return {
    add(delta: Delta) {
      for (const [f, n] of Object.entries(delta) as [ProgressField, number][]) pending[f] = (pending[f] ?? 0) + n;
    },
    close() {
      clearInterval(timer);
      return flush();
    },
  };
};
type Progress = ReturnType<typeof progressBuffer>;

/** The first chunk to run moves the task Waitting → Processing; the others find it moved. */
const markProcessing = async (deps: RunBatchTaskDeps, task: BatchTaskRecord) => {
  if (task.status !== 'Waitting') return;
  if (await deps.batchTasks.moveTask(task, ['Waitting'], 'Processing'))
    await notifyTaskStatus(deps, task, 'Processing', '');
};

/** Where an attempt's result leaves the sub-task: a failure the policy retries waits as FailWaitRetry. */
const outcome = (deps: RunBatchTaskDeps, task: BatchTaskRecord, attempt: number, result: SubtaskResult, at: number) => {
  if (result.status === 'Success') return { to: 'Success' as const, set: { output: result.output, finishedAt: at } };
  const retryAt = retryAfterFailure(attempt, task.taskPolicy, at, deps.config.ttlMinuteMs);
  return retryAt === undefined
    ? { to: 'Fail' as const, set: { error: result.error, finishedAt: at } }
    : { to: 'FailWaitRetry' as const, set: { error: result.error, finishedAt: at, retryAt } };
};

/** Claims, runs and records one sub-task; the counters follow each status move that applied. */
const runSubtask = async (deps: RunBatchTaskDeps, task: BatchTaskRecord, sub: SubtaskRecord, progress: Progress) => {
  const claimedAt = deps.clock.now();
  // A policy retry is the next attempt; an abandoned one is the same attempt again; anything else starts anew.
  const attempt =
    sub.status === 'FailWaitRetry' ? (sub.attempt ?? 1) + 1 : sub.status === 'Processing' ? (sub.attempt ?? 1) : 1;
  if (!(await deps.batchTasks.moveSubtask(task, sub, 'Processing', { claimedAt, run: task.run, attempt }))) return;
  // A re-claimed Processing sub-task is already counted as processing.
  if (sub.status !== 'Processing') progress.add({ [COUNTER_OF[sub.status]]: -1, processing: 1 });
  const result = await runSubtaskAction(deps, task, sub.target);
  const { to, set } = outcome(deps, task, attempt, result, deps.clock.now());
  if (await deps.batchTasks.moveSubtask(task, { seq: sub.seq, status: 'Processing', claimedAt }, to, set))
    progress.add({ processing: -1, [COUNTER_OF[to]]: 1 });
};

/** A stopping task: the chunk's sub-tasks not yet run (and claims abandoned by dead workers) become Stopped. */
const stopChunk = async (deps: RunBatchTaskDeps, task: BatchTaskRecord, subs: SubtaskRecord[], progress: Progress) => {
  const before = staleBefore(deps, deps.clock.now());
  const stoppable = subs.filter(
    (s) => STOPPABLE_SUBTASK.includes(s.status) || (s.status === 'Processing' && (s.claimedAt ?? 0) < before),
  );
  await Promise.all(
    stoppable.map(async (s) => {
      if (await deps.batchTasks.moveSubtask(task, s, 'Stopped'))
        progress.add({ [COUNTER_OF[s.status]]: -1, stopped: 1 });
    }),
  );
};

/** abort_on_failure_percent: once the failures reach it, the task stops (the run's later chunks stop their sub-tasks). */
const abortIfFailing = async (deps: RunBatchTaskDeps, key: TaskKey, run: number) => {
  const task = await deps.batchTasks.get(key);
  if (!task || task.run !== run || task.status !== 'Processing') return;
  const reason = abortReason(task.progress, task.taskPolicy);
  if (reason) await deps.batchTasks.moveTask(task, ['Processing'], 'Stopping', { statusDesc: reason });
};

/**
 * Runs the sub-tasks due now, all at once; returns when the next paced one is due (max_per_minute), if any.
 * Pacing applies to first attempts: policy retries and abandoned claims are due at once.
 */
const runDue = async (
  deps: RunBatchTaskDeps,
  task: BatchTaskRecord,
  subs: SubtaskRecord[],
  reclaim: boolean,
  progress: Progress,
) => {
  const now = deps.clock.now();
  const window = {
    now,
    staleBefore: reclaim ? Number.MAX_SAFE_INTEGER : staleBefore(deps, now),
    rerunFrom: task.rerunFrom,
  };
  const slotOf = (s: SubtaskRecord) =>
    s.status === 'FailWaitRetry' || s.status === 'Processing'
      ? now
      : paceSlot(s.seq, task.startAt, task.taskPolicy?.max_per_minute, deps.config.ttlMinuteMs);
  const runnable = subs.filter((s) => runnableNow(s, window));
  await Promise.all(runnable.filter((s) => slotOf(s) <= now).map((s) => runSubtask(deps, task, s, progress)));
  const later = runnable.map(slotOf).filter((slot) => slot > now);
  return later.length ? Math.min(...later) : undefined;
};

/**
 * One Map iteration (DESIGN.md "Batch task"): the chunk's sub-tasks due now are sent at once through the
 * single-device path. Safe to repeat: only what is runnable is claimed, each claim a compare-and-set. With
 * max_per_minute, sub-tasks not yet due are left, and the iteration is told when to come back.
 */
export const runBatchChunk = async (deps: RunBatchTaskDeps, ref: ChunkRef): Promise<ChunkRef> => {
  const done: ChunkRef = {
    project: ref.project,
    taskId: ref.taskId,
    chunk: ref.chunk,
    run: ref.run,
    ...(ref.reclaim ? { reclaim: true } : {}),
  };
  const task = await deps.batchTasks.get(ref);
  // A newer run (stop, retry, resume) has taken over: this one has nothing left to do.
  if (!task || task.run !== ref.run || FINISHED.includes(task.status)) return done;
  const { from, to } = chunkRange(ref.chunk, task.progress.total);
  const subs = await deps.batchTasks.subtaskRange(ref, from, to);
  const progress = progressBuffer(deps, ref);
  let next: number | undefined;
  try {
    if (task.status === 'Stopping') await stopChunk(deps, task, subs, progress);
    else {
      await markProcessing(deps, task);
      next = await runDue(deps, task, subs, ref.reclaim === true, progress);
    }
  } finally {
    await progress.close();
  }
  if (task.taskPolicy?.abort_on_failure_percent !== undefined) await abortIfFailing(deps, ref, ref.run);
  // Only references go back: the Map discards results anyway (payloads stay small).
  return next === undefined ? done : { ...done, waitUntil: waitTimestamp(next) };
};

/**
 * After each pass over the chunks: counters recounted from the sub-tasks themselves (an ADD lost to a crash
 * is repaired here), then either another pass (policy retries due later, or a stop waiting for sub-tasks in
 * flight), recorded on the task so the sweeper knows which execution to look for, or the final status
 * (IoTDA §6.6) in one conditional write, notified once.
 */
export const settleBatchTask = async (deps: RunBatchTaskDeps, ref: SettleRef): Promise<SettleResult> => {
  const task = await deps.batchTasks.get(ref);
  if (!task) return { status: 'gone' };
  if (task.run !== ref.run || FINISHED.includes(task.status)) return { status: task.status };
  const states = await deps.batchTasks.subtaskStates(ref, task.progress.total);
  const progress = progressOf(states.map((s) => s.status));
  const now = deps.clock.now();
  const pass = ref.pass ?? 1;
  const again = async (at: number): Promise<SettleResult> => {
    // Lost to a status move (a stop, an abort) or a newer run: settle again as the task now stands.
    if (!(await deps.batchTasks.moveTask(task, [task.status], task.status, { pass: pass + 1 })))
      return settleBatchTask(deps, ref);
    return { status: task.status, retryAt: waitTimestamp(at), pass: pass + 1 };
  };
  const inFlight = states.some((s) => s.status === 'Processing' && (s.claimedAt ?? 0) >= staleBefore(deps, now));
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

/**
 * The state machine's first step: a task created Initializing (more targets than its create call writes, or
 * a create call that died before it wrote them) gets its sub-tasks from the targets the call stored (on the
 * task item, or its parts), each put only if missing (a retried step, or a second
 * execution, adds what is missing and resets nothing), then moves to Waitting. A task whose targets are not
 * all stored lost its create call before it finished (no 201 was sent) and ends Fail.
 */
export const prepareBatchTask = async (
  deps: RunBatchTaskDeps,
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
export const writeSubtasks = async (deps: RunBatchTaskDeps, task: BatchTaskRecord, targets: readonly string[]) => {
  await deps.batchTasks.addSubtasks(task, targets);
  if (await deps.batchTasks.moveTask(task, ['Initializing'], 'Waitting'))
    await notifyTaskStatus(deps, task, 'Waitting', '');
};

/** The input of a new run of `task`, numbered `run` (or of one of its later passes). */
export const runInput = (
  task: BatchTaskRecord,
  run: number,
  startAt: number,
  reclaim = false,
  pass = 1,
): BatchRunInput => ({
  project: task.project,
  taskId: task.taskId,
  run,
  chunks: chunkList(task.progress.total),
  startAt: waitTimestamp(startAt),
  reclaim,
  ...(pass > 1 ? { pass } : {}),
});

/** A task that lost its create call before the targets were all stored: its creator was not answered 201. */
const failInterrupted = async (deps: RunBatchTaskDeps, task: BatchTaskRecord) => {
  const statusDesc = 'The task was interrupted while it was being created.';
  if (await deps.batchTasks.moveTask(task, ['Initializing'], 'Fail', { statusDesc }))
    await notifyTaskStatus(deps, task, 'Fail', statusDesc);
};

/**
 * A new run for a task whose run is gone; its Processing sub-tasks were abandoned, so it reclaims them at
 * once. An Initializing one is prepared by the new run's first step (or ended Fail there, see prepareBatchTask).
 */
const resume = async (deps: RunBatchTaskDeps, task: BatchTaskRecord) => {
  const run = task.run + 1;
  if (await deps.batchTasks.moveTask(task, [task.status], task.status, { run }))
    await deps.taskRunner.start(runInput(task, run, task.startAt, true));
};

/**
 * Local runtime start: the runs of tasks that did not end were lost with the process (the local runtime
 * keeps runs in memory), so each gets a new one.
 */
export const resumeBatchTasks = async (deps: RunBatchTaskDeps): Promise<number> => {
  const tasks = await deps.batchTasks.unfinished(1_000);
  for (const task of tasks) await resume(deps, task);
  return tasks.length;
};

// An Initializing task this old with no execution lost its creator: a create call lasts at most one API timeout.
const CREATE_ABANDONED_MS = 5 * 60_000;

/**
 * The batch sweeper's check of unfinished tasks (AWS, where executions outlive processes): a run (or pass)
 * whose execution never started (the call or state that moved the task died before starting it) is
 * started, under the same name, so a start that was merely late is refused as a duplicate; a run whose
 * execution ended while the task did not (its settle failed every retry) is resumed as a new run. An
 * Initializing task with no execution is left to its create call for 5 minutes.
 */
export const reviveBatchTasks = async (deps: RunBatchTaskDeps): Promise<number> => {
  let revived = 0;
  for (const task of await deps.batchTasks.unfinished(1_000)) {
    const pass = task.pass ?? 1;
    const state = await deps.taskRunner.state(task.taskId, task.run, pass);
    if (state === 'running') continue;
    if (
      state === 'absent' &&
      task.status === 'Initializing' &&
      deps.clock.now() - task.createdAt <= CREATE_ABANDONED_MS
    )
      continue;
    revived++;
    // A later pass starts now: the chunks run what is due, and settle names the next time.
    if (state === 'absent')
      await deps.taskRunner.start(runInput(task, task.run, pass > 1 ? deps.clock.now() : task.startAt, false, pass));
    else await resume(deps, task);
  }
  return revived;
};
