import { randomBytes } from 'node:crypto';

/**
 * Batch task rules (IoTDA §2.10, §6): statuses, ids, progress counters, the settle rule and chunking.
 * The stores only read and write; what a status may become is decided here.
 */

// IoTDA §6.3, spelling as Huawei's ("Waitting").
export const TASK_STATUSES = ['Initializing', 'Waitting', 'Processing', 'Success', 'Fail', 'PartialSuccess', 'Stopping', 'Stopped'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

// IoTDA §6.5.
export const SUBTASK_STATUSES = ['Waitting', 'Processing', 'Success', 'Fail', 'FailWaitRetry', 'Stopped', 'Removed'] as const;
export type SubtaskStatus = (typeof SUBTASK_STATUSES)[number];

export const TASK_TYPES = ['createCommands', 'createMessages'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** IoTDA §2.10: at most 30 000 targets per task. */
export const MAX_TARGETS = 30_000;

/**
 * Targets per chunk: one Lambda invocation sends them all at once. 100 keeps a chunk's slowest case (every
 * device silent) one sync wait long, and 30 000 targets at most 300 Map iterations (history well under 25 000 events).
 */
export const CHUNK_SIZE = 100;

/** IoTDA §6.4, the counter names as the API shows them. */
export const PROGRESS_FIELDS = ['total', 'processing', 'success', 'fail', 'waitting', 'fail_wait_retry', 'stopped', 'removed'] as const;
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
  // Left Waitting or Processing only when the run itself failed (a chunk failing all its retries).
  const notRun = p.waitting + p.processing;
  return `${p.fail} of ${p.total} sub-tasks failed.${notRun ? ` ${notRun} did not run: the run failed.` : ''}`;
};

/**
 * Task ids: 24 lowercase hex that sort by creation, like IoTDA's ObjectId-shaped ids (IoTDA §1: `marker` is
 * the last id of a page and newer records have larger ids). 12 hex of milliseconds (seconds would leave tasks
 * made in one second unordered), then a per-process counter, then randomness so two processes never clash.
 */
let counter = randomBytes(3).readUIntBE(0, 3) & 0x7fffff;
export const newTaskId = (nowMs: number): string => {
  counter = (counter + 1) & 0xffffff;
  return nowMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(6, '0') + randomBytes(3).toString('hex');
};

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
