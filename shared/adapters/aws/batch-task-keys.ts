import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { chunkCount, chunkOf, type ProgressField } from '../../domain/batch-tasks.ts';
import type { TaskKey } from '../../ports/batch-task-store.ts';
import { keys } from '../../table.ts';

/** The key scheme of batch tasks, their target parts and sub-tasks (shared/table.ts), for both batch stores. */
export const seqKey = (seq: number) => String(seq).padStart(5, '0');
const chunkKey = (chunk: number) => String(chunk).padStart(3, '0');
/** The last possible seqKey: a range to it reads a chunk to its end. */
export const LAST_SEQ = seqKey(99_999);

export const batchKeys = {
  task: (k: TaskKey) => keys.batchTask(k.project, k.taskId),
  // A task over INLINE_TARGETS keeps its targets in parts of TARGETS_PER_PART, each in a partition of its own.
  targetPart: (k: TaskKey, part: number) => keys.batchTargets(k.project, k.taskId, String(part).padStart(2, '0')),
  subtask: (k: TaskKey, seq: number) => keys.subtask(k.project, k.taskId, chunkKey(chunkOf(seq)), seqKey(seq)),
  // GSI keys: tasks listed per project and type, and per status; sub-tasks by target and by status.
  taskList: (project: string, type: string) => `BATCHTASKS#${project}#${type}`,
  taskListByStatus: (project: string, type: string, status: string) => `BATCHTASKS#${project}#${type}#${status}`,
  subtaskByTarget: (k: TaskKey, target: string) => `BATCHSUB#${k.project}#${k.taskId}#${target}`,
  subtaskByStatus: (k: TaskKey, chunk: number, status: string) =>
    `BATCHSUB#${k.project}#${k.taskId}#${chunkKey(chunk)}#${status}`,
} as const;

/** The task item's attribute of a progress counter. */
export const counterAttribute = (f: ProgressField) => `progress_${f}`;

/** The sparse index partition of tasks not yet ended (few at a time: they leave it when they end). */
export const UNFINISHED = 'BATCH_UNFINISHED';
/** The same index's partition of deleted tasks whose sub-tasks are still being removed. */
export const DELETING = 'BATCH_DELETING';

export const chunkNumbers = (total: number) => Array.from({ length: chunkCount(total) }, (_, i) => i);

/** The sub-tasks of one chunk's partition with seqKeys from `from` to `to`. */
export const chunkQuery = (table: string, k: TaskKey, chunk: number, from: string, to: string): QueryCommandInput => ({
  TableName: table,
  KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
  ExpressionAttributeValues: {
    ':pk': keys.subtask(k.project, k.taskId, chunkKey(chunk), '').pk,
    ':from': `SUB#${from}`,
    ':to': `SUB#${to}`,
  },
});
