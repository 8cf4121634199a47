import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunkCount, chunkOf, chunkRange, type SubtaskStatus } from '../../domain/batch-tasks.ts';
import type { SubtaskRecord, TaskKey } from '../../ports/batch-task-store.ts';
import type { SubtaskChanges, SubtaskQuery, SubtaskState, SubtaskStore } from '../../ports/subtask-store.ts';
import { mapLimit } from '../../map-limit.ts';
import { indexKeys } from '../../table.ts';
import { batchKeys, chunkNumbers, chunkQuery, LAST_SEQ, seqKey } from './batch-task-keys.ts';
import { seqOfItem, subtaskFromItem, subtaskStateFromItem } from './batch-task-items.ts';
import { applied } from './conditional.ts';
import { batchWriteAll } from './coalesced-items.ts';
import { queryUpTo } from './query-pages.ts';
import { UpdateExpression } from './update-expression.ts';

/** A sub-task's outcome fields: each move sets those it is given and removes the others. */
const OUTCOME = ['output', 'error', 'retryAt', 'finishedAt'] as const;

// Chunk partitions worked on at once when a task's sub-tasks are written, read or removed: 30 000 in seconds.
const CHUNKS_AT_ONCE = 8;

/** Runs `work` on every chunk of a task of `total` sub-tasks, CHUNKS_AT_ONCE at a time. */
const eachChunk = <T>(total: number, work: (chunk: number) => Promise<T>): Promise<T[]> =>
  mapLimit(chunkNumbers(total), CHUNKS_AT_ONCE, work);

/** Sub-task items, one partition per chunk of a task (shared/table.ts). */
export class DynamoDbSubtaskStore implements SubtaskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async addSubtasks(k: TaskKey, targets: readonly string[]): Promise<void> {
    const itemOf = (seq: number) => ({
      ...batchKeys.subtask(k, seq),
      [indexKeys.subtaskByTarget.pk]: batchKeys.subtaskByTarget(k, targets[seq]!),
      [indexKeys.subtaskByTarget.sk]: seqKey(seq),
      [indexKeys.subtaskByStatus.pk]: batchKeys.subtaskByStatus(k, chunkOf(seq), 'Waitting'),
      [indexKeys.subtaskByStatus.sk]: seqKey(seq),
      taskId: k.taskId,
      seq,
      target: targets[seq],
      status: 'Waitting',
    });
    await eachChunk(targets.length, async (chunk) => {
      const { from, to } = chunkRange(chunk, targets.length);
      const existing = await queryUpTo(
        this.db,
        { ...this.chunk(k, chunk, seqKey(from), seqKey(to)), ConsistentRead: true, ProjectionExpression: 'seq' },
        Infinity,
      );
      const seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      // A chunk with none written yet is written whole, 25 to a call: nothing moves a sub-task before its task
      // leaves Initializing, which only a finished addSubtasks leads to, and a run never prepares twice at once.
      if (!existing.length) {
        for (let i = 0; i < seqs.length; i += 25)
          await batchWriteAll(
            this.db,
            this.table,
            seqs.slice(i, i + 25).map((seq) => ({ PutRequest: { Item: itemOf(seq) } })),
          );
        return;
      }
      // What an earlier attempt wrote may have moved since: only the missing are put, each only if still missing.
      const have = new Set(existing.map(seqOfItem));
      await Promise.all(
        seqs
          .filter((seq) => !have.has(seq))
          .map((seq) =>
            applied(
              this.db.send(
                new PutCommand({
                  TableName: this.table,
                  Item: itemOf(seq),
                  ConditionExpression: 'attribute_not_exists(pk)',
                }),
              ),
            ),
          ),
      );
    });
  }

  async subtasks(k: TaskKey, q: SubtaskQuery): Promise<SubtaskRecord[]> {
    // Chunk partitions in order from the one holding `fromSeq`, until enough are found.
    const items: Record<string, unknown>[] = [];
    const from = seqKey(q.fromSeq);
    for (let chunk = chunkOf(q.fromSeq); chunk < chunkCount(q.total) && items.length < q.max; chunk++) {
      const byStatus = indexKeys.subtaskByStatus;
      const query =
        q.status === undefined
          ? this.chunk(k, chunk, from, LAST_SEQ)
          : {
              TableName: this.table,
              IndexName: byStatus.index,
              KeyConditionExpression: '#pk = :pk AND #sk >= :from',
              ExpressionAttributeNames: { '#pk': byStatus.pk, '#sk': byStatus.sk },
              ExpressionAttributeValues: { ':pk': batchKeys.subtaskByStatus(k, chunk, q.status), ':from': from },
            };
      items.push(...(await queryUpTo(this.db, query, q.max - items.length)));
    }
    return items.map(subtaskFromItem);
  }

  async subtaskOf(k: TaskKey, target: string): Promise<SubtaskRecord | undefined> {
    // At most one: targets are deduplicated.
    const [item] = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: indexKeys.subtaskByTarget.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': indexKeys.subtaskByTarget.pk },
        ExpressionAttributeValues: { ':pk': batchKeys.subtaskByTarget(k, target) },
      },
      1,
    );
    return item ? subtaskFromItem(item) : undefined;
  }

  async subtaskRange(k: TaskKey, from: number, to: number): Promise<SubtaskRecord[]> {
    const chunk = chunkOf(from);
    if (chunkOf(to) !== chunk) throw new Error(`sub-tasks ${from}..${to} span chunks`);
    const query = { ...this.chunk(k, chunk, seqKey(from), seqKey(to)), ConsistentRead: true };
    return (await queryUpTo(this.db, query, to - from + 1)).map(subtaskFromItem);
  }

  async subtaskStates(k: TaskKey, total: number): Promise<SubtaskState[]> {
    const chunks = await eachChunk(total, async (chunk) => {
      const query = {
        ...this.chunk(k, chunk, seqKey(0), LAST_SEQ),
        ConsistentRead: true,
        ProjectionExpression: '#status, claimedAt, retryAt',
        ExpressionAttributeNames: { '#status': 'status' },
      };
      return (await queryUpTo(this.db, query, Infinity)).map(subtaskStateFromItem);
    });
    return chunks.flat();
  }

  moveSubtask(
    k: TaskKey,
    seen: Pick<SubtaskRecord, 'seq' | 'status' | 'claimedAt'>,
    to: SubtaskStatus,
    set: SubtaskChanges = {},
  ): Promise<boolean> {
    const u = new UpdateExpression();
    u.set('status', to).set(indexKeys.subtaskByStatus.pk, batchKeys.subtaskByStatus(k, chunkOf(seen.seq), to));
    for (const [field, value] of Object.entries(set)) if (value !== undefined) u.set(field, value);
    u.remove(...OUTCOME.filter((f) => set[f] === undefined));
    // Status and claim together identify what was read: a claim is the sub-task's version.
    u.when(`${u.name('status')} = ${u.value(seen.status)}`);
    u.when(
      seen.claimedAt === undefined
        ? `attribute_not_exists(${u.name('claimedAt')})`
        : `${u.name('claimedAt')} = ${u.value(seen.claimedAt)}`,
    );
    const Key = batchKeys.subtask(k, seen.seq);
    return applied(this.db.send(new UpdateCommand({ TableName: this.table, Key, ...u.build() })));
  }

  async removeAll(k: TaskKey, total: number): Promise<void> {
    await eachChunk(total, async (chunk) => {
      const query = { ...this.chunk(k, chunk, seqKey(0), LAST_SEQ), ProjectionExpression: 'pk, sk' };
      const items = await queryUpTo(this.db, query, Infinity);
      for (let i = 0; i < items.length; i += 25)
        await batchWriteAll(
          this.db,
          this.table,
          items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
        );
    });
  }

  private chunk(k: TaskKey, chunk: number, from: string, to: string) {
    return chunkQuery(this.table, k, chunk, from, to);
  }
}
