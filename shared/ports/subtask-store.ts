import type { SubtaskRecord, SubtaskStatus } from '../domain/batch-tasks.ts';
import type { TaskKey } from './batch-task-store.ts';

export interface SubtaskQuery {
  status?: SubtaskStatus;
  /** Only sub-tasks from this position on (the marker, turned into a position). */
  fromSeq: number;
  /** The task's sub-task count, which bounds the chunks to read. */
  total: number;
  /** How many to return, at most (the caller drops its offset from the front). */
  max: number;
}

export type SubtaskChanges = Partial<
  Pick<SubtaskRecord, 'output' | 'error' | 'claimedAt' | 'finishedAt' | 'run' | 'attempt' | 'retryAt'>
>;

/** What settle reads of every sub-task: its status and timers (to recount the progress, find the next retry). */
export type SubtaskState = Pick<SubtaskRecord, 'status' | 'claimedAt' | 'retryAt'>;

/** The sub-tasks of batch tasks, one per target. Every status change is one compare-and-set. */
export interface SubtaskStore {
  /**
   * Writes one Waitting sub-task per target, `seq` = position, those missing only: repeating it adds what is
   * missing and never resets a sub-task that has moved on. Not to be run twice at once for one task.
   */
  addSubtasks(key: TaskKey, targets: readonly string[]): Promise<void>;
  /** Sub-tasks in position order, from `fromSeq`, of one status or any. */
  subtasks(key: TaskKey, query: SubtaskQuery): Promise<SubtaskRecord[]>;
  /** The sub-task of a target, if the task has it. */
  subtaskOf(key: TaskKey, target: string): Promise<SubtaskRecord | undefined>;
  /** Sub-tasks at positions `from..to` of one chunk, in order. */
  subtaskRange(key: TaskKey, from: number, to: number): Promise<SubtaskRecord[]>;
  /** Every sub-task's status and timers. */
  subtaskStates(key: TaskKey, total: number): Promise<SubtaskState[]>;
  /**
   * Moves a sub-task from what `seen` was (status and claim) to `to`, with the given fields; false when it
   * changed since it was read. Every sub-task status change goes through this one compare-and-set.
   */
  moveSubtask(
    key: TaskKey,
    seen: Pick<SubtaskRecord, 'seq' | 'status' | 'claimedAt'>,
    to: SubtaskStatus,
    set?: SubtaskChanges,
  ): Promise<boolean>;
  /** Removes every sub-task of a deleted task of `total` (the delete's purge, before the task item goes). */
  removeAll(key: TaskKey, total: number): Promise<void>;
}
