import {
  abandonedBefore,
  abortReason,
  chunkRange,
  COUNTER_OF,
  FINISHED,
  paceSlot,
  retryAfterFailure,
  runnableNow,
  STOPPABLE_SUBTASK,
  waitTimestamp,
  type ProgressField,
  type SubtaskResult,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../ports/deps.ts';
import type { BatchTaskRecord, SubtaskRecord, TaskKey } from '../ports/batch-task-store.ts';
import type { MetricName } from '../ports/metrics.ts';
import { notifyTaskStatus, type BatchTaskViewDeps } from './batch-task-view.ts';
import { runSubtaskAction, type BatchSubtaskDeps } from './batch-subtask.ts';

/** The ports this use case uses. */
export type RunBatchChunkDeps = Pick<Deps, 'batchTasks' | 'subtasks' | 'clock' | 'config' | 'logger' | 'metrics'> &
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

// How often a running chunk writes its counter moves: often enough to watch, rarely enough to spare the task item.
const PROGRESS_FLUSH_MS = 1_000;

type Delta = Partial<Record<ProgressField, number>>;

/**
 * A chunk's counter moves, summed and written as one ADD per second and at the end. One ADD per sub-task
 * would make the task item every chunk's hot spot; a lost flush is repaired by settle's recount.
 */
const progressBuffer = (deps: RunBatchChunkDeps, key: TaskKey & { run: number }) => {
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
const markProcessing = async (deps: RunBatchChunkDeps, task: BatchTaskRecord) => {
  if (task.status !== 'Waitting') return;
  if (await deps.batchTasks.moveTask(task, ['Waitting'], 'Processing'))
    await notifyTaskStatus(deps, task, 'Processing', '');
};

/** Where an attempt's result leaves the sub-task: a failure the policy retries waits as FailWaitRetry. */
const outcome = (
  deps: RunBatchChunkDeps,
  task: BatchTaskRecord,
  attempt: number,
  result: SubtaskResult,
  at: number,
) => {
  if (result.status === 'Success') return { to: 'Success' as const, set: { output: result.output, finishedAt: at } };
  const retryAt = retryAfterFailure(attempt, task.taskPolicy, at, deps.config.ttlMinuteMs);
  return retryAt === undefined
    ? { to: 'Fail' as const, set: { error: result.error, finishedAt: at } }
    : { to: 'FailWaitRetry' as const, set: { error: result.error, finishedAt: at, retryAt } };
};

const RESULT_METRIC = {
  Success: 'BatchSubtasksSucceeded',
  Fail: 'BatchSubtasksFailed',
  FailWaitRetry: 'BatchSubtasksRetrying',
} as const satisfies Record<string, MetricName>;

/** Claims, runs and records one sub-task; the counters follow each status move that applied. */
const runSubtask = async (deps: RunBatchChunkDeps, task: BatchTaskRecord, sub: SubtaskRecord, progress: Progress) => {
  const claimedAt = deps.clock.now();
  // A policy retry is the next attempt; an abandoned one is the same attempt again; anything else starts anew.
  const attempt =
    sub.status === 'FailWaitRetry' ? (sub.attempt ?? 1) + 1 : sub.status === 'Processing' ? (sub.attempt ?? 1) : 1;
  if (!(await deps.subtasks.moveSubtask(task, sub, 'Processing', { claimedAt, run: task.run, attempt }))) return;
  // A re-claimed Processing sub-task is already counted as processing.
  if (sub.status !== 'Processing') progress.add({ [COUNTER_OF[sub.status]]: -1, processing: 1 });
  const result = await runSubtaskAction(deps, task, sub.target);
  const { to, set } = outcome(deps, task, attempt, result, deps.clock.now());
  if (await deps.subtasks.moveSubtask(task, { seq: sub.seq, status: 'Processing', claimedAt }, to, set)) {
    progress.add({ processing: -1, [COUNTER_OF[to]]: 1 });
    deps.metrics.count(RESULT_METRIC[to]);
  }
};

/** A stopping task: the chunk's sub-tasks not yet run (and claims abandoned by dead workers) become Stopped. */
const stopChunk = async (deps: RunBatchChunkDeps, task: BatchTaskRecord, subs: SubtaskRecord[], progress: Progress) => {
  const before = abandonedBefore(deps.clock.now(), deps.config.commandTimeoutMs);
  const stoppable = subs.filter(
    (s) => STOPPABLE_SUBTASK.includes(s.status) || (s.status === 'Processing' && (s.claimedAt ?? 0) < before),
  );
  await Promise.all(
    stoppable.map(async (s) => {
      if (await deps.subtasks.moveSubtask(task, s, 'Stopped')) {
        progress.add({ [COUNTER_OF[s.status]]: -1, stopped: 1 });
        deps.metrics.count('BatchSubtasksStopped');
      }
    }),
  );
};

/** abort_on_failure_percent: once the failures reach it, the task stops (the run's later chunks stop their sub-tasks). */
const abortIfFailing = async (deps: RunBatchChunkDeps, key: TaskKey, run: number) => {
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
  deps: RunBatchChunkDeps,
  task: BatchTaskRecord,
  subs: SubtaskRecord[],
  reclaim: boolean,
  progress: Progress,
) => {
  const now = deps.clock.now();
  const window = {
    now,
    staleBefore: reclaim ? Number.MAX_SAFE_INTEGER : abandonedBefore(now, deps.config.commandTimeoutMs),
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
export const runBatchChunk = async (deps: RunBatchChunkDeps, ref: ChunkRef): Promise<ChunkRef> => {
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
  const subs = await deps.subtasks.subtaskRange(ref, from, to);
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
