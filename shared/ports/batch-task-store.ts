import type {
  ProgressField,
  SubtaskRecord,
  TaskPolicy,
  TaskProgress,
  TaskStatus,
  TaskType,
} from '../domain/batch-tasks.ts';

export type { SubtaskRecord, TaskPolicy };

export interface BatchTaskRecord {
  project: string;
  taskId: string;
  taskName: string;
  taskType: TaskType;
  /** The validated document, as the single-device call would take it. */
  document: Record<string, unknown>;
  taskPolicy?: TaskPolicy;
  /** The distinct targets, in order, when there are at most INLINE_TARGETS (else read by `targets`). */
  targets?: string[];
  status: TaskStatus;
  statusDesc?: string;
  progress: TaskProgress;
  createdAt: number;
  /** When the current run may start (schedule_time, or when it was started); max_per_minute paces from here. */
  startAt: number;
  /**
   * The current run: every start (create, stop, retry, resume) takes the next number, and an execution whose
   * number is not the task's any more does nothing, so a superseded run can never act on the task.
   */
  run: number;
  /** Fail and Stopped sub-tasks last run before this run are run again (set by a whole-task retry). */
  rerunFrom: number;
  /**
   * The pass of the current run: each pass over the chunks after the first (policy retries due, a stop
   * waiting for sub-tasks in flight) is an execution of its own, and this names it. Absent: the first.
   */
  pass?: number;
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

export interface TaskChanges {
  statusDesc?: string;
  startAt?: number;
  progress?: TaskProgress;
  run?: number;
  rerunFrom?: number;
  /** Only while the task is still at `key.run`. */
  pass?: number;
}

/** A deleted task whose sub-tasks are still to be removed, with how many it has. */
export interface DeletedTask extends TaskKey {
  total: number;
}

/**
 * Batch tasks (their sub-tasks: SubtaskStore). Every status change is one conditional write; counters move by
 * ADD.
 */
export interface BatchTaskStore {
  /** False when the id is taken. */
  create(task: BatchTaskRecord): Promise<boolean>;
  /**
   * Stores the targets of a task with more than INLINE_TARGETS compactly (TARGETS_PER_PART to an item),
   * before the task itself, so that a task found stored always has all its targets. They stay as long as
   * the task (ShowBatchTask shows them); `purgeDeleted` removes them.
   */
  storeTargets(key: TaskKey, targets: readonly string[]): Promise<void>;
  /** The targets `storeTargets` stored, in order ([] when none were). */
  targets(key: TaskKey, total: number): Promise<string[]>;
  get(key: TaskKey): Promise<BatchTaskRecord | undefined>;
  /** Newest first. */
  list(project: string, query: TaskQuery): Promise<Page<BatchTaskRecord>>;
  /**
   * Moves the task to `to` if it is in one of `from` (and, when `set.run` is given, still at `key.run`);
   * false otherwise.
   */
  moveTask(
    key: TaskKey & { taskType: TaskType; run: number },
    from: readonly TaskStatus[],
    to: TaskStatus,
    set?: TaskChanges,
  ): Promise<boolean>;
  /**
   * Deleting, first step: a finished task leaves every list and is marked for removal (false if it is not
   * finished); then its sub-tasks are removed (SubtaskStore.removeAll) and `purgeDeleted` removes its targets
   * and itself, last, so `deleting` finds a purge cut short again.
   */
  markDeleted(key: TaskKey): Promise<boolean>;
  purgeDeleted(task: DeletedTask): Promise<void>;
  deleting(limit: number): Promise<DeletedTask[]>;
  /** Tasks not yet ended (Initializing, Waitting, Processing, Stopping), oldest first. */
  unfinished(limit: number): Promise<BatchTaskRecord[]>;
  /**
   * Adds to the progress counters atomically (negative deltas subtract), only while the task is unfinished
   * and at run `key.run`: a late flush of a superseded or timed-out chunk call cannot undo settle's recount.
   */
  addProgress(key: TaskKey & { run: number }, delta: Partial<Record<ProgressField, number>>): Promise<void>;
}
