import type {
  ProgressField,
  SubtaskError,
  SubtaskStatus,
  TaskProgress,
  TaskStatus,
  TaskType,
} from '../domain/batch-tasks.ts';

export interface TaskPolicy {
  retry_count?: number;
  retry_interval?: number;
  schedule_time?: string;
}

export interface BatchTaskRecord {
  project: string;
  taskId: string;
  taskName: string;
  taskType: TaskType;
  /** The validated document, as the single-device call would take it. */
  document: Record<string, unknown>;
  taskPolicy?: TaskPolicy;
  status: TaskStatus;
  statusDesc?: string;
  progress: TaskProgress;
  createdAt: number;
}

export interface SubtaskRecord {
  taskId: string;
  /** Position in the task's (deduplicated) targets; orders the sub-tasks and names the chunk. */
  seq: number;
  target: string;
  status: SubtaskStatus;
  output?: string;
  error?: SubtaskError;
  /** When the current run of it started; a Processing sub-task claimed long ago was left by a dead worker. */
  claimedAt?: number;
  finishedAt?: number;
}

export interface TaskKey {
  project: string;
  taskId: string;
}

export interface Page<T> {
  items: T[];
  /** All records matching the filters, whatever the marker and offset (IoTDA §1 `page.count`). */
  count: number;
}

export interface TaskQuery {
  taskType: TaskType;
  status?: TaskStatus;
  /** Only ids below this one (IoTDA §1 marker). */
  below: string;
  offset: number;
  limit: number;
}

export interface SubtaskQuery {
  status?: SubtaskStatus;
  /** Only sub-tasks from this position on (the marker, turned into a position). */
  fromSeq: number;
  /** The task's sub-task count, which bounds the chunks to read. */
  total: number;
  /** How many to return, at most (the caller drops its offset from the front). */
  max: number;
}

/** Batch tasks and their sub-tasks. Every status change is one conditional write; counters move by ADD. */
export interface BatchTaskStore {
  /** Throws ConditionFailedError when the id is taken. */
  create(task: BatchTaskRecord): Promise<void>;
  /** Writes one Waitting sub-task per target, `seq` = position; repeating it rewrites the same items. */
  addSubtasks(key: TaskKey, targets: readonly string[]): Promise<void>;
  get(key: TaskKey): Promise<BatchTaskRecord | undefined>;
  /** Newest first. */
  list(project: string, query: TaskQuery): Promise<Page<BatchTaskRecord>>;
  /** Moves the task to `to` if it is in one of `from`; false otherwise. */
  moveTask(key: TaskKey & { taskType: TaskType }, from: readonly TaskStatus[], to: TaskStatus, set?: { statusDesc?: string; progress?: TaskProgress }): Promise<boolean>;
  /** Tasks not yet ended (Initializing, Waitting, Processing, Stopping), oldest first. */
  unfinished(limit: number): Promise<BatchTaskRecord[]>;
  /** Adds to the progress counters atomically; negative deltas subtract. */
  addProgress(key: TaskKey, delta: Partial<Record<ProgressField, number>>): Promise<void>;
  /** Sub-tasks in position order, from `fromSeq`, of one status or any. */
  subtasks(key: TaskKey, query: SubtaskQuery): Promise<SubtaskRecord[]>;
  /** The sub-task of a target, if the task has it. */
  subtaskOf(key: TaskKey, target: string): Promise<SubtaskRecord | undefined>;
  /** Sub-tasks at positions `from..to` of one chunk, in order. */
  subtaskRange(key: TaskKey, from: number, to: number): Promise<SubtaskRecord[]>;
  /** Every sub-task's status (to recount the progress). */
  subtaskStatuses(key: TaskKey, total: number): Promise<SubtaskStatus[]>;
  /**
   * Claims a sub-task for a run: Waitting → Processing, or a Processing one claimed before `staleBefore`
   * (its worker died). False when it is not there to claim.
   */
  claimSubtask(key: TaskKey, seq: number, at: number, staleBefore: number): Promise<boolean>;
  /** Processing → Success/Fail if it is still claimed at `claimedAt`; false when someone else moved it. */
  finishSubtask(key: TaskKey, seq: number, claimedAt: number, result: { status: 'Success'; output: string } | { status: 'Fail'; error: SubtaskError }, at: number): Promise<boolean>;
}
