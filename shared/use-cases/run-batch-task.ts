import {
  chunkList,
  chunkRange,
  COUNTER_OF,
  FINISHED,
  progressOf,
  settledDescription,
  settledStatus,
  type ProgressField,
} from '../domain/batch-tasks.ts';
import type { Deps } from '../deps.ts';
import type { BatchTaskRecord, SubtaskRecord, TaskKey } from '../ports/batch-task-store.ts';
import { notifyTaskStatus } from './batch-task-view.ts';
import { runSubtaskAction } from './batch-subtask.ts';

/** What a Map iteration passes: a reference to one chunk, never its targets. */
export interface ChunkRef extends TaskKey {
  chunk: number;
  /** The run resumes a dead one: Processing sub-tasks were abandoned, run them again now. */
  reclaim?: boolean;
}

// A claim older than one sync wait plus this was left by a worker that died (Lambda timeout or crash).
const CLAIM_MARGIN_MS = 30_000;

// How often a running chunk writes its counter moves: often enough to watch, rarely enough to spare the task item.
const PROGRESS_FLUSH_MS = 1_000;

type Delta = Partial<Record<ProgressField, number>>;

/**
 * A chunk's counter moves, summed and written as one ADD per second and at the end. One ADD per sub-task
 * would make the task item every chunk's hot spot; a lost flush is repaired by settle's recount.
 */
const progressBuffer = (deps: Deps, key: TaskKey) => {
  let pending: Delta = {};
  let writing = Promise.resolve();
  const flush = () => {
    const delta = pending;
    pending = {};
    writing = writing.then(() =>
      deps.batchTasks.addProgress(key, delta).catch((e: unknown) => deps.logger.warn('progress not written', { taskId: key.taskId, error: e as Error })),
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

/** The first chunk to run moves the task Waitting → Processing; the others find it moved. */
const markProcessing = async (deps: Deps, task: BatchTaskRecord) => {
  if (task.status !== 'Waitting') return;
  if (await deps.batchTasks.moveTask(task, ['Waitting'], 'Processing')) await notifyTaskStatus(deps, task, 'Processing', '');
};

/** Claims, runs and records one sub-task; the counters follow each status move that applied. */
const runSubtask = async (deps: Deps, task: BatchTaskRecord, sub: SubtaskRecord, staleBefore: number, progress: ReturnType<typeof progressBuffer>) => {
  const claimedAt = deps.clock.now();
  if (!(await deps.batchTasks.claimSubtask(task, sub.seq, claimedAt, staleBefore))) return;
  // A re-claimed Processing sub-task is already counted as processing.
  if (sub.status === 'Waitting') progress.add({ waitting: -1, processing: 1 });
  const result = await runSubtaskAction(deps, task, sub.target);
  if (await deps.batchTasks.finishSubtask(task, sub.seq, claimedAt, result, deps.clock.now()))
    progress.add({ processing: -1, [COUNTER_OF[result.status]]: 1 });
};

/**
 * One Map iteration (DESIGN.md "Batch task"): every sub-task of the chunk still to run is sent at once
 * through the single-device path. Safe to repeat: only Waitting (or abandoned Processing) sub-tasks run.
 */
export const runBatchChunk = async (deps: Deps, ref: ChunkRef): Promise<{ chunk: number }> => {
  const task = await deps.batchTasks.get(ref);
  if (!task || FINISHED.includes(task.status) || task.status === 'Stopping') return { chunk: ref.chunk };
  await markProcessing(deps, task);
  const { from, to } = chunkRange(ref.chunk, task.progress.total);
  const subs = await deps.batchTasks.subtaskRange(ref, from, to);
  const staleBefore = ref.reclaim === true ? Number.MAX_SAFE_INTEGER : deps.clock.now() - deps.config.commandTimeoutMs - CLAIM_MARGIN_MS;
  const progress = progressBuffer(deps, ref);
  try {
    await Promise.all(
      subs.filter((s) => s.status === 'Waitting' || s.status === 'Processing').map((s) => runSubtask(deps, task, s, staleBefore, progress)),
    );
  } finally {
    await progress.close();
  }
  // Only the reference goes back: the Map discards results anyway (payloads stay small).
  return { chunk: ref.chunk };
};

/**
 * After the Map: counters recounted from the sub-tasks themselves (an ADD lost to a crash is repaired here),
 * then the final status (IoTDA §6.6) in one conditional write, notified once.
 */
export const settleBatchTask = async (deps: Deps, key: TaskKey): Promise<{ status: string }> => {
  const task = await deps.batchTasks.get(key);
  if (!task) return { status: 'gone' };
  if (FINISHED.includes(task.status)) return { status: task.status };
  const progress = progressOf(await deps.batchTasks.subtaskStatuses(key, task.progress.total));
  const status = settledStatus(progress);
  const statusDesc = settledDescription(status, progress);
  if (await deps.batchTasks.moveTask(task, ['Waitting', 'Processing'], status, { statusDesc, progress }))
    await notifyTaskStatus(deps, task, status, statusDesc);
  return { status };
};

/**
 * Starts again the runs of tasks that did not end, after the runs themselves were lost (the local runtime
 * keeps runs in memory; a restart ends them). A task still Initializing never had its sub-tasks all
 * written and its creator was not answered 201: it ends Fail.
 */
export const resumeBatchTasks = async (deps: Deps): Promise<number> => {
  const tasks = await deps.batchTasks.unfinished(1_000);
  for (const task of tasks) {
    if (task.status === 'Initializing') {
      const statusDesc = 'The task was interrupted while it was being created.';
      if (await deps.batchTasks.moveTask(task, ['Initializing'], 'Fail', { statusDesc })) await notifyTaskStatus(deps, task, 'Fail', statusDesc);
      continue;
    }
    await deps.taskRunner.start({ project: task.project, taskId: task.taskId, chunks: chunkList(task.progress.total), reclaim: true });
  }
  return tasks.length;
};
