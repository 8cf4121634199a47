import type { Deps } from '../ports/deps.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { runInput } from './batch-run-input.ts';

/** The ports this use case uses. */
export type ReviveBatchTasksDeps = Pick<Deps, 'batchTasks' | 'taskRunner' | 'clock'>;

/**
 * A new run for a task whose run is gone; its Processing sub-tasks were abandoned, so it reclaims them at
 * once. An Initializing one is prepared by the new run's first step (or ended Fail there, see prepareBatchTask).
 */
const resume = async (deps: ReviveBatchTasksDeps, task: BatchTaskRecord) => {
  const run = task.run + 1;
  if (await deps.batchTasks.moveTask(task, [task.status], task.status, { run }))
    await deps.taskRunner.start(runInput(task, run, task.startAt, true));
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
export const reviveBatchTasks = async (deps: ReviveBatchTasksDeps): Promise<number> => {
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
