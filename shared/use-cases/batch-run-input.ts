import { chunkList, waitTimestamp } from '../domain/batch-tasks.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import type { BatchRunInput } from '../ports/task-runner.ts';

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
