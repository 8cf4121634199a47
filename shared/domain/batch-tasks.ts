import { newListId } from '../ids.ts';

/**
 * Batch task rules (IoTDA §2.10, §6): statuses, ids, progress counters, the settle rule and chunking.
 * The stores only read and write; what a status may become is decided here.
 */

// IoTDA §6.3, spelling as Huawei's ("Waitting").
export const TASK_STATUSES = [
  'Initializing',
  'Waitting',
  'Processing',
  'Success',
  'Fail',
  'PartialSuccess',
  'Stopping',
  'Stopped',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

// IoTDA §6.5.
export const SUBTASK_STATUSES = [
  'Waitting',
  'Processing',
  'Success',
  'Fail',
  'FailWaitRetry',
  'Stopped',
  'Removed',
] as const;
export type SubtaskStatus = (typeof SUBTASK_STATUSES)[number];

export const TASK_TYPES = ['createCommands', 'createMessages'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** IoTDA §2.10: at most 30 000 targets per task. */
export const MAX_TARGETS = 30_000;

/**
 * Targets per chunk: one Lambda invocation sends them all at once. 100 keeps a chunk's slowest case (every
 * device silent) one sync wait long, and 30 000 targets at most 300 Map iterations per pass (docs/decisions.md,
 * "Batch at the limits": an execution's history stays under 25 000 events).
 */
export const CHUNK_SIZE = 100;

/**
 * A task's `targets` (IoTDA's Task object) are kept on the task item itself up to this many, so ListBatchTasks
 * rows show them at no extra read; a larger task's are read from its stored parts (TARGETS_PER_PART) by
 * ShowBatchTask only (a page of 50 rows of 30,000 ids would pass Lambda's 6 MB answer). docs/decisions.md,
 * "Batch at the limits".
 */
export const INLINE_TARGETS = 100;

/**
 * Targets per stored part of a task with more than INLINE_TARGETS (docs/decisions.md, "Batch at the limits"):
 * 1 000 ids of at most 128 characters are under 130 KB, a third of DynamoDB's 400 KB item; 30 000 targets
 * are 30 items. The create call stores them, the state machine's first step reads them for a task created
 * Initializing, ShowBatchTask reads them, and the task's delete removes them.
 */
export const TARGETS_PER_PART = 1_000;
export const partCount = (total: number): number => Math.ceil(total / TARGETS_PER_PART);

/**
 * Up to this many targets, the create call writes the sub-tasks itself (40 BatchWriteItem calls, under a
 * second even on a cold table) and answers Waitting; a larger task answers Initializing, and the state
 * machine's first step writes them.
 */
export const PREPARE_IN_CALL_MAX = 1_000;

/** IoTDA §6.4, the counter names as the API shows them. */
export const PROGRESS_FIELDS = [
  'total',
  'processing',
  'success',
  'fail',
  'waitting',
  'fail_wait_retry',
  'stopped',
  'removed',
] as const;
export type ProgressField = (typeof PROGRESS_FIELDS)[number];
export type TaskProgress = Record<ProgressField, number>;

/** The counter each sub-task status is counted in. */
export const COUNTER_OF: Record<SubtaskStatus, ProgressField> = {
  Waitting: 'waitting',
  Processing: 'processing',
  Success: 'success',
  Fail: 'fail',
  FailWaitRetry: 'fail_wait_retry',
  Stopped: 'stopped',
  Removed: 'removed',
};

export const emptyProgress = (): TaskProgress => Object.fromEntries(PROGRESS_FIELDS.map((f) => [f, 0])) as TaskProgress;

/** Counters recomputed from the sub-tasks' statuses; `total` is every sub-task. */
export const progressOf = (statuses: Iterable<SubtaskStatus>): TaskProgress => {
  const p = emptyProgress();
  for (const s of statuses) {
    p.total++;
    p[COUNTER_OF[s]]++;
  }
  return p;
};

/** Task statuses from which nothing moves any more (IoTDA §2.10: the ones a task can be deleted in). */
export const FINISHED: readonly TaskStatus[] = ['Success', 'Fail', 'PartialSuccess', 'Stopped'];

/**
 * IoTDA §6.6 (inferred): all sub-tasks Success → Success, all Fail → Fail, a mix → PartialSuccess.
 * Called once no sub-task is left to run; a task with no sub-task counted (cannot be created) is Fail.
 */
export const settledStatus = (p: TaskProgress): 'Success' | 'Fail' | 'PartialSuccess' => {
  if (p.total > 0 && p.success === p.total) return 'Success';
  if (p.success === 0) return 'Fail';
  return 'PartialSuccess';
};

export const settledDescription = (status: TaskStatus, p: TaskProgress): string => {
  if (status === 'Success') return 'All sub-tasks succeeded.';
  // Left Waitting, Processing or FailWaitRetry only when the run itself failed (a chunk failing all its retries).
  const notRun = p.waitting + p.processing + p.fail_wait_retry;
  return `${p.fail} of ${p.total} sub-tasks failed.${notRun ? ` ${notRun} did not run: the run failed.` : ''}`;
};

/** Task ids are list ids (shared/ids.ts): 24 hex that sort by creation. */
export const newTaskId = newListId;

export const TASK_ID = /^[0-9a-f]{24}$/;

/** IoTDA §1: the marker that means "from the start" (every id is below it). */
export const FIRST_MARKER = 'ffffffffffffffffffffffff';

/**
 * Sub-tasks have no id in IoTDA, yet their pages use a 24-hex marker like every other list. A sub-task's id
 * is derived from its position so that descending id order (IoTDA §1) is the order of `targets`:
 * id = BASE - seq, the first target just below FIRST_MARKER.
 */
const SUBTASK_BASE = (1n << 96n) - 2n;
export const subtaskId = (seq: number): string => (SUBTASK_BASE - BigInt(seq)).toString(16).padStart(24, '0');

/** The first sub-task position whose id is below `marker` (IoTDA §1: a page holds records with id < marker). */
export const firstSeqBelow = (marker: string): number => {
  const first = SUBTASK_BASE - BigInt(`0x${marker}`) + 1n;
  if (first < 0n) return 0;
  return first > BigInt(MAX_TARGETS) ? MAX_TARGETS : Number(first);
};

/** Targets in their given order with repeats removed (the first occurrence stays): one sub-task per device. */
export const uniqueTargets = (targets: readonly string[]): string[] => [...new Set(targets)];

export const chunkCount = (total: number): number => Math.ceil(total / CHUNK_SIZE);

/** The Map's items: chunk numbers only (DESIGN.md: chunk references, never the targets). */
export const chunkList = (total: number): number[] => Array.from({ length: chunkCount(total) }, (_, i) => i);

/** The chunk a sub-task belongs to. Sub-tasks are stored per chunk, so changing CHUNK_SIZE re-keys stored tasks. */
export const chunkOf = (seq: number): number => Math.floor(seq / CHUNK_SIZE);

/** The sub-task positions (seq) of chunk `n`. */
export const chunkRange = (n: number, total: number): { from: number; to: number } => ({
  from: n * CHUNK_SIZE,
  to: Math.min(total, (n + 1) * CHUNK_SIZE) - 1,
});

/** What a sub-task ended with: the device's answer as text, or an IoTDA error. */
export interface SubtaskError {
  error_code: string;
  error_msg: string;
}
export type SubtaskResult = { status: 'Success'; output: string } | { status: 'Fail'; error: SubtaskError };

/**
 * task_policy (IoTDA §2.10, plus a rollout rate and an abort rule as AWS IoT Jobs offers them). Minutes are
 * the runtime's minute (Config.ttlMinuteMs), which tests shorten.
 */
export interface TaskPolicy {
  schedule_time?: string;
  retry_count?: number;
  retry_interval?: number;
  max_per_minute?: number;
  abort_on_failure_percent?: number;
  abort_min_count?: number;
}

/** Abort is judged only once this many sub-tasks have ended (IoT Jobs' minNumberOfExecutedThings). */
export const DEFAULT_ABORT_MIN_COUNT = 10;

/**
 * A paced run must end within this many minutes: each paced wait costs the execution about 9 history events
 * and a Standard execution holds 25 000 (research aws.md), retry rounds included.
 */
export const MAX_PACED_MINUTES = 1_000;

/** Task statuses a stop applies to, and the ones a retry applies to (IoTDA §2.10 Stop / Retry). */
export const STOPPABLE: readonly TaskStatus[] = ['Waitting', 'Processing'];
export const RETRYABLE: readonly TaskStatus[] = ['Fail', 'PartialSuccess', 'Stopped'];

/** Sub-task statuses a stop turns into Stopped, and the ones a retry runs again. */
export const STOPPABLE_SUBTASK: readonly SubtaskStatus[] = ['Waitting', 'FailWaitRetry'];
export const RETRYABLE_SUBTASK: readonly SubtaskStatus[] = ['Fail', 'Stopped'];

/** What a chunk run needs to decide which of its sub-tasks to run now. */
export interface RunWindow {
  now: number;
  /** Processing sub-tasks claimed before this were left by a worker that died. */
  staleBefore: number;
  /** Fail and Stopped sub-tasks last run before this run number are run again (a whole-task retry). */
  rerunFrom: number;
}

// A claim older than one sync wait plus this was left by a worker that died (Lambda timeout or crash).
const CLAIM_MARGIN_MS = 30_000;

/** Processing sub-tasks claimed before this time were left by a worker that died. */
export const abandonedBefore = (now: number, commandTimeoutMs: number): number =>
  now - commandTimeoutMs - CLAIM_MARGIN_MS;

/** Whether a sub-task is to be run (claimed) now. */
export const runnableNow = (s: SubtaskRecord, w: RunWindow): boolean => {
  switch (s.status) {
    case 'Waitting':
      return true;
    case 'Processing':
      return (s.claimedAt ?? 0) < w.staleBefore;
    case 'FailWaitRetry':
      return (s.retryAt ?? 0) <= w.now;
    case 'Fail':
    case 'Stopped':
      return (s.run ?? 0) < w.rerunFrom;
    default:
      return false;
  }
};

/**
 * max_per_minute: sub-task `seq` may start in minute floor(seq / rate) of the run, so no minute starts more
 * than `rate` first attempts. Policy retries are not paced (they are failures, few, each on its own timer).
 */
export const paceSlot = (seq: number, startAt: number, perMinute: number | undefined, minuteMs: number): number =>
  perMinute ? startAt + Math.floor(seq / perMinute) * minuteMs : startAt;

/** A failed attempt becomes FailWaitRetry while the policy allows another (IoTDA §6.6), else stays Fail. */
export const retryAfterFailure = (
  attempt: number,
  policy: TaskPolicy | undefined,
  now: number,
  minuteMs: number,
): number | undefined =>
  policy?.retry_count !== undefined && policy.retry_interval !== undefined && attempt <= policy.retry_count
    ? now + policy.retry_interval * minuteMs
    : undefined;

/** abort_on_failure_percent: the share of ended sub-tasks that failed reached the threshold, once enough ended. */
export const abortReason = (p: TaskProgress, policy: TaskPolicy | undefined): string | undefined => {
  const percent = policy?.abort_on_failure_percent;
  if (percent === undefined) return undefined;
  const ended = p.success + p.fail;
  if (ended < (policy?.abort_min_count ?? DEFAULT_ABORT_MIN_COUNT) || p.fail * 100 < percent * ended) return undefined;
  return `Aborted: ${p.fail} of ${ended} ended sub-tasks failed, at or over abort_on_failure_percent ${percent}.`;
};

/** A Step Functions Wait timestamp: whole seconds (it truncates milliseconds), rounded up so it is never early. */
export const waitTimestamp = (ms: number): string =>
  new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** One sub-task as stored: its status plus what the runner needs to decide about it. */
export interface SubtaskRecord {
  taskId: string;
  /** Position in the task's (deduplicated) targets; orders the sub-tasks and names the chunk. */
  seq: number;
  target: string;
  status: SubtaskStatus;
  output?: string;
  error?: SubtaskError;
  /** When the current or last attempt started; a Processing sub-task claimed long ago was left by a dead worker. */
  claimedAt?: number;
  finishedAt?: number;
  /** The run number of the last attempt (a whole-task retry runs again what ended before it). */
  run?: number;
  /** Attempts in the current series (policy retries count up; a manual retry starts a new series). */
  attempt?: number;
  /** FailWaitRetry: when the next attempt is due. */
  retryAt?: number;
}
