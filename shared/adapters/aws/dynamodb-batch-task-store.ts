import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  chunkCount,
  chunkOf,
  chunkRange,
  FINISHED,
  INLINE_TARGETS,
  partCount,
  TARGETS_PER_PART,
  PROGRESS_FIELDS,
  type ProgressField,
  type SubtaskStatus,
  type TaskProgress,
  type TaskStatus,
} from '../../domain/batch-tasks.ts';
import { ConditionFailedError } from '../../errors.ts';
import type {
  BatchTaskRecord,
  BatchTaskStore,
  Page,
  SubtaskChanges,
  SubtaskQuery,
  SubtaskRecord,
  TaskChanges,
  TaskKey,
  TaskQuery,
} from '../../ports/batch-task-store.ts';
import { indexKeys, keys } from '../../table.ts';
import { applied } from './conditional.ts';
import { batchWriteAll } from './coalesced-items.ts';
import { countAll, queryUpTo } from './query-pages.ts';

const seqKey = (seq: number) => String(seq).padStart(5, '0');
const chunkKey = (chunk: number) => String(chunk).padStart(3, '0');
// A task over INLINE_TARGETS keeps its targets in parts of TARGETS_PER_PART, each in a partition of its own.
const partKey = (k: TaskKey, part: number) => keys.batchTargets(k.project, k.taskId, String(part).padStart(2, '0'));
const subKey = (k: TaskKey, seq: number) => keys.subtask(k.project, k.taskId, chunkKey(chunkOf(seq)), seqKey(seq));
const counter = (f: ProgressField) => `progress_${f}`;

// GSI keys (shared/table.ts): tasks listed per project and type, and per status; sub-tasks by target and by status.
const taskList = (project: string, type: string) => `BATCHTASKS#${project}#${type}`;
const taskListByStatus = (project: string, type: string, status: string) => `BATCHTASKS#${project}#${type}#${status}`;
const subByTarget = (k: TaskKey, target: string) => `BATCHSUB#${k.project}#${k.taskId}#${target}`;
const subByStatus = (k: TaskKey, chunk: number, status: string) =>
  `BATCHSUB#${k.project}#${k.taskId}#${chunkKey(chunk)}#${status}`;

const toTask = (item: Record<string, unknown>): BatchTaskRecord => ({
  project: item.project as string,
  taskId: item.taskId as string,
  taskName: item.taskName as string,
  taskType: item.taskType as BatchTaskRecord['taskType'],
  document: item.document as Record<string, unknown>,
  ...(item.taskPolicy ? { taskPolicy: item.taskPolicy as BatchTaskRecord['taskPolicy'] } : {}),
  ...(Array.isArray(item.targets) ? { targets: item.targets as string[] } : {}),
  status: item.status as TaskStatus,
  ...(item.statusDesc !== undefined ? { statusDesc: item.statusDesc as string } : {}),
  progress: Object.fromEntries(PROGRESS_FIELDS.map((f) => [f, Number(item[counter(f)] ?? 0)])) as TaskProgress,
  createdAt: item.createdAt as number,
  startAt: Number(item.startAt ?? item.createdAt),
  // Tasks stored before runs were numbered count as run 0.
  run: Number(item.run ?? 0),
  rerunFrom: Number(item.rerunFrom ?? 0),
  ...(item.pass !== undefined ? { pass: Number(item.pass) } : {}),
});

const toSubtask = (item: Record<string, unknown>): SubtaskRecord => ({
  taskId: item.taskId as string,
  seq: item.seq as number,
  target: item.target as string,
  status: item.status as SubtaskStatus,
  ...(item.output !== undefined ? { output: item.output as string } : {}),
  ...(item.error !== undefined ? { error: item.error as SubtaskRecord['error'] } : {}),
  ...(item.claimedAt !== undefined ? { claimedAt: item.claimedAt as number } : {}),
  ...(item.finishedAt !== undefined ? { finishedAt: item.finishedAt as number } : {}),
  ...(item.run !== undefined ? { run: item.run as number } : {}),
  ...(item.attempt !== undefined ? { attempt: item.attempt as number } : {}),
  ...(item.retryAt !== undefined ? { retryAt: item.retryAt as number } : {}),
});

/** A sub-task's outcome fields: each move sets those it is given and removes the others. */
const OUTCOME = ['output', 'error', 'retryAt', 'finishedAt'] as const;

/** The sparse index partition of tasks not yet ended (few at a time: they leave it when they end). */
const UNFINISHED = 'BATCH_UNFINISHED';
/** The same index's partition of deleted tasks whose sub-tasks are still being removed. */
const DELETING = 'BATCH_DELETING';

// Calls in parallel when a task's sub-tasks are written, read or removed: enough for 30 000 in seconds.
const WRITERS = 8;

/** Runs `work` on every item, WRITERS at a time. */
const eachInParallel = async <T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> => {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: WRITERS }, worker));
};

const chunkNumbers = (total: number) => Array.from({ length: chunkCount(total) }, (_, i) => i);

export class DynamoDbBatchTaskStore implements BatchTaskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(t: BatchTaskRecord): Promise<void> {
    const { progress, ...rest } = t;
    const ok = await applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.batchTask(t.project, t.taskId),
            [indexKeys.taskList.pk]: taskList(t.project, t.taskType),
            [indexKeys.taskList.sk]: t.taskId,
            [indexKeys.taskListByStatus.pk]: taskListByStatus(t.project, t.taskType, t.status),
            [indexKeys.taskListByStatus.sk]: t.taskId,
            [indexKeys.unfinishedTasks.pk]: UNFINISHED,
            [indexKeys.unfinishedTasks.sk]: t.taskId,
            ...rest,
            ...Object.fromEntries(PROGRESS_FIELDS.map((f) => [counter(f), progress[f]])),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!ok) throw new ConditionFailedError(`batch task ${t.taskId} exists`);
  }

  async storeTargets(k: TaskKey, targets: readonly string[]): Promise<void> {
    const parts = Array.from({ length: partCount(targets.length) }, (_, i) => i);
    // One item per part, each in its own partition: a few large writes, spread.
    await eachInParallel(parts, async (part) => {
      const Item = {
        ...partKey(k, part),
        targets: targets.slice(part * TARGETS_PER_PART, (part + 1) * TARGETS_PER_PART),
      };
      await applied(
        this.db.send(new PutCommand({ TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
    });
  }

  async targets(k: TaskKey, total: number): Promise<string[]> {
    const parts = Array.from({ length: partCount(total) }, (_, i) => i);
    const found: string[][] = new Array(parts.length);
    await eachInParallel(parts, async (part) => {
      const out = await this.db.send(
        new GetCommand({ TableName: this.table, Key: partKey(k, part), ConsistentRead: true }),
      );
      found[part] = (out.Item?.targets as string[] | undefined) ?? [];
    });
    return found.flat();
  }

  /** The parts `storeTargets` wrote (none for a task of at most INLINE_TARGETS, whose targets are on the task item). */
  private async removeTargets(k: TaskKey, total: number): Promise<void> {
    if (total <= INLINE_TARGETS) return;
    const keysOf = Array.from({ length: partCount(total) }, (_, part) => partKey(k, part));
    for (let i = 0; i < keysOf.length; i += 25)
      await batchWriteAll(
        this.db,
        this.table,
        keysOf.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
      );
  }

  async addSubtasks(k: TaskKey, targets: readonly string[]): Promise<void> {
    const itemOf = (seq: number) => ({
      ...subKey(k, seq),
      [indexKeys.subtaskByTarget.pk]: subByTarget(k, targets[seq]!),
      [indexKeys.subtaskByTarget.sk]: seqKey(seq),
      [indexKeys.subtaskByStatus.pk]: subByStatus(k, chunkOf(seq), 'Waitting'),
      [indexKeys.subtaskByStatus.sk]: seqKey(seq),
      taskId: k.taskId,
      seq,
      target: targets[seq],
      status: 'Waitting',
    });
    await eachInParallel(chunkNumbers(targets.length), async (chunk) => {
      const { from, to } = chunkRange(chunk, targets.length);
      const existing = await queryUpTo(
        this.db,
        { ...this.chunkQuery(k, chunk, seqKey(from), seqKey(to)), ConsistentRead: true, ProjectionExpression: 'seq' },
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
      const have = new Set(existing.map((i) => i.seq as number));
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

  async get(k: TaskKey): Promise<BatchTaskRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.batchTask(k.project, k.taskId), ConsistentRead: true }),
    );
    // A task being deleted is gone for every reader.
    return out.Item && out.Item.deleted !== true ? toTask(out.Item) : undefined;
  }

  async list(project: string, q: TaskQuery): Promise<Page<BatchTaskRecord>> {
    const index = q.status ? indexKeys.taskListByStatus : indexKeys.taskList;
    const pk = q.status ? taskListByStatus(project, q.taskType, q.status) : taskList(project, q.taskType);
    const base = {
      TableName: this.table,
      IndexName: index.index,
      ExpressionAttributeNames: { '#pk': index.pk, '#sk': index.sk },
    };
    const [items, count] = await Promise.all([
      queryUpTo(
        this.db,
        {
          ...base,
          KeyConditionExpression: '#pk = :pk AND #sk < :below',
          ExpressionAttributeValues: { ':pk': pk, ':below': q.below },
          ScanIndexForward: false,
        },
        q.offset + q.limit,
      ),
      countAll(this.db, {
        ...base,
        ExpressionAttributeNames: { '#pk': index.pk },
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    ]);
    return { items: items.slice(q.offset).map(toTask), count };
  }

  moveTask(
    k: TaskKey & { taskType: string; run: number },
    from: readonly TaskStatus[],
    to: TaskStatus,
    set: TaskChanges = {},
  ): Promise<boolean> {
    // The by-status list key moves with the status.
    const values: Record<string, unknown> = { ':to': to, ':byStatus': taskListByStatus(k.project, k.taskType, to) };
    const names: Record<string, string> = { '#status': 'status', '#byStatus': indexKeys.taskListByStatus.pk };
    const sets = ['#status = :to', '#byStatus = :byStatus'];
    const conditions = [`#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`];
    for (const [i, s] of from.entries()) values[`:from${i}`] = s;
    if (set.statusDesc !== undefined) {
      sets.push('statusDesc = :desc');
      values[':desc'] = set.statusDesc;
    }
    if (set.progress)
      for (const f of PROGRESS_FIELDS) {
        sets.push(`${counter(f)} = :${f}`);
        values[`:${f}`] = set.progress[f];
      }
    if (set.run !== undefined) {
      // A new run only from the run it was decided on: two starts at once cannot both win.
      sets.push('#run = :run');
      conditions.push('(attribute_not_exists(#run) OR #run = :seenRun)');
      names['#run'] = 'run';
      values[':run'] = set.run;
      values[':seenRun'] = k.run;
      // A new run starts at its first pass.
      if (set.pass === undefined) {
        sets.push('#pass = :firstPass');
        names['#pass'] = 'pass';
        values[':firstPass'] = 1;
      }
    }
    if (set.pass !== undefined) {
      // The next pass only of the run it was decided in.
      sets.push('#pass = :pass');
      conditions.push('(attribute_not_exists(#run) OR #run = :seenRun)');
      names['#run'] = 'run';
      names['#pass'] = 'pass';
      values[':pass'] = set.pass;
      values[':seenRun'] = k.run;
    }
    if (set.startAt !== undefined) {
      sets.push('startAt = :startAt');
      values[':startAt'] = set.startAt;
    }
    if (set.rerunFrom !== undefined) {
      sets.push('rerunFrom = :rerunFrom');
      values[':rerunFrom'] = set.rerunFrom;
    }
    // Only unfinished tasks are in the sparse index: an ended one leaves it, a retried one comes back.
    const unfinished = indexKeys.unfinishedTasks;
    const index = FINISHED.includes(to) ? ` REMOVE ${unfinished.pk}, ${unfinished.sk}` : '';
    if (!index) {
      sets.push(`${unfinished.pk} = :unfinished, ${unfinished.sk} = :taskId`);
      values[':unfinished'] = UNFINISHED;
      values[':taskId'] = k.taskId;
    }
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.batchTask(k.project, k.taskId),
          UpdateExpression: `SET ${sets.join(', ')}${index}`,
          ConditionExpression: `${conditions.join(' AND ')} AND attribute_not_exists(deleted)`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  markDeleted(k: TaskKey): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.batchTask(k.project, k.taskId),
          UpdateExpression: `SET deleted = :true, #pending = :deleting, #pendingSk = :taskId REMOVE #list, #listSk, #byStatus, #byStatusSk`,
          ConditionExpression: `#status IN (${FINISHED.map((_, i) => `:f${i}`).join(', ')}) AND attribute_not_exists(deleted)`,
          ExpressionAttributeNames: {
            '#status': 'status',
            '#pending': indexKeys.unfinishedTasks.pk,
            '#pendingSk': indexKeys.unfinishedTasks.sk,
            '#list': indexKeys.taskList.pk,
            '#listSk': indexKeys.taskList.sk,
            '#byStatus': indexKeys.taskListByStatus.pk,
            '#byStatusSk': indexKeys.taskListByStatus.sk,
          },
          ExpressionAttributeValues: {
            ':true': true,
            ':deleting': DELETING,
            ':taskId': k.taskId,
            ...Object.fromEntries(FINISHED.map((f, i) => [`:f${i}`, f])),
          },
        }),
      ),
    );
  }

  async purgeDeleted(k: TaskKey): Promise<void> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.batchTask(k.project, k.taskId), ConsistentRead: true }),
    );
    if (out.Item?.deleted !== true) return;
    await eachInParallel(chunkNumbers(Number(out.Item[counter('total')] ?? 0)), async (chunk) => {
      const items = await queryUpTo(
        this.db,
        { ...this.chunkQuery(k, chunk, seqKey(0), seqKey(99_999)), ProjectionExpression: 'pk, sk' },
        Infinity,
      );
      for (let i = 0; i < items.length; i += 25)
        await batchWriteAll(
          this.db,
          this.table,
          items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
        );
    });
    await this.removeTargets(k, Number(out.Item[counter('total')] ?? 0));
    // Last, so a purge cut short is found again through the index.
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.batchTask(k.project, k.taskId) }));
  }

  async deleting(limit: number): Promise<TaskKey[]> {
    return (await this.sparseList(DELETING, limit)).map((i) => ({
      project: i.project as string,
      taskId: i.taskId as string,
    }));
  }

  async unfinished(limit: number): Promise<BatchTaskRecord[]> {
    return (await this.sparseList(UNFINISHED, limit)).map(toTask);
  }

  /** One partition of the sparse task index (gsi3): tasks unfinished, or being deleted. */
  private sparseList(partition: string, limit: number) {
    return queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: indexKeys.unfinishedTasks.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': indexKeys.unfinishedTasks.pk },
        ExpressionAttributeValues: { ':pk': partition },
      },
      limit,
    );
  }

  async addProgress(k: TaskKey & { run: number }, delta: Partial<Record<ProgressField, number>>): Promise<void> {
    const entries = Object.entries(delta).filter(([, n]) => n);
    if (!entries.length) return;
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.batchTask(k.project, k.taskId),
          UpdateExpression: `ADD ${entries.map(([f]) => `${counter(f as ProgressField)} :${f}`).join(', ')}`,
          // Not on a task that is gone (ADD would create a bare item), ended, or run again since.
          ConditionExpression: `attribute_exists(pk) AND (#run = :run OR attribute_not_exists(#run)) AND NOT (#status IN (${FINISHED.map((_, i) => `:f${i}`).join(', ')}))`,
          ExpressionAttributeNames: { '#run': 'run', '#status': 'status' },
          ExpressionAttributeValues: {
            ...Object.fromEntries(entries.map(([f, n]) => [`:${f}`, n])),
            ':run': k.run,
            ...Object.fromEntries(FINISHED.map((f, i) => [`:f${i}`, f])),
          },
        }),
      )
      .catch((e: unknown) => {
        if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      });
  }

  async subtasks(k: TaskKey, q: SubtaskQuery): Promise<SubtaskRecord[]> {
    // Chunk partitions in order from the one holding `fromSeq`, until enough are found.
    const items: Record<string, unknown>[] = [];
    for (let chunk = chunkOf(q.fromSeq); chunk < chunkCount(q.total) && items.length < q.max; chunk++) {
      const from = seqKey(q.fromSeq);
      items.push(
        ...(await queryUpTo(
          this.db,
          q.status === undefined
            ? this.chunkQuery(k, chunk, from, seqKey(99_999))
            : {
                TableName: this.table,
                IndexName: indexKeys.subtaskByStatus.index,
                KeyConditionExpression: '#pk = :pk AND #sk >= :from',
                ExpressionAttributeNames: { '#pk': indexKeys.subtaskByStatus.pk, '#sk': indexKeys.subtaskByStatus.sk },
                ExpressionAttributeValues: { ':pk': subByStatus(k, chunk, q.status), ':from': from },
              },
          q.max - items.length,
        )),
      );
    }
    return items.map(toSubtask);
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
        ExpressionAttributeValues: { ':pk': subByTarget(k, target) },
      },
      1,
    );
    return item ? toSubtask(item) : undefined;
  }

  async subtaskRange(k: TaskKey, from: number, to: number): Promise<SubtaskRecord[]> {
    const chunk = chunkOf(from);
    if (chunkOf(to) !== chunk) throw new Error(`sub-tasks ${from}..${to} span chunks`);
    return (
      await queryUpTo(
        this.db,
        { ...this.chunkQuery(k, chunk, seqKey(from), seqKey(to)), ConsistentRead: true },
        to - from + 1,
      )
    ).map(toSubtask);
  }

  async subtaskStates(k: TaskKey, total: number): Promise<Pick<SubtaskRecord, 'status' | 'claimedAt' | 'retryAt'>[]> {
    const states: Pick<SubtaskRecord, 'status' | 'claimedAt' | 'retryAt'>[] = [];
    await eachInParallel(chunkNumbers(total), async (chunk) => {
      const items = await queryUpTo(
        this.db,
        {
          ...this.chunkQuery(k, chunk, seqKey(0), seqKey(99_999)),
          ConsistentRead: true,
          ProjectionExpression: '#status, claimedAt, retryAt',
          ExpressionAttributeNames: { '#status': 'status' },
        },
        Infinity,
      );
      states.push(
        ...items.map((i) => ({
          status: i.status as SubtaskStatus,
          ...(i.claimedAt !== undefined ? { claimedAt: i.claimedAt as number } : {}),
          ...(i.retryAt !== undefined ? { retryAt: i.retryAt as number } : {}),
        })),
      );
    });
    return states;
  }

  moveSubtask(
    k: TaskKey,
    seen: Pick<SubtaskRecord, 'seq' | 'status' | 'claimedAt'>,
    to: SubtaskStatus,
    set: SubtaskChanges = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status', '#byStatus': indexKeys.subtaskByStatus.pk };
    const values: Record<string, unknown> = {
      ':to': to,
      ':seen': seen.status,
      ':byStatus': subByStatus(k, chunkOf(seen.seq), to),
    };
    const sets = ['#status = :to', '#byStatus = :byStatus'];
    for (const [field, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const removes = OUTCOME.filter((f) => set[f] === undefined).map((f) => {
      names[`#${f}`] = f;
      return `#${f}`;
    });
    // Status and claim together identify what was read: a claim is the sub-task's version.
    let condition = '#status = :seen AND attribute_not_exists(claimedAt)';
    if (seen.claimedAt !== undefined) {
      condition = '#status = :seen AND claimedAt = :seenClaim';
      values[':seenClaim'] = seen.claimedAt;
    }
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: subKey(k, seen.seq),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  private chunkQuery(k: TaskKey, chunk: number, from: string, to: string): QueryCommandInput {
    return {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': keys.subtask(k.project, k.taskId, chunkKey(chunk), '').pk,
        ':from': `SUB#${from}`,
        ':to': `SUB#${to}`,
      },
    };
  }
}
