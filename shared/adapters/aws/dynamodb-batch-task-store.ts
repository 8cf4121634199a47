import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  FINISHED,
  INLINE_TARGETS,
  PROGRESS_FIELDS,
  partCount,
  TARGETS_PER_PART,
  type ProgressField,
  type TaskStatus,
} from '../../domain/batch-tasks.ts';
import type {
  BatchTaskRecord,
  BatchTaskStore,
  DeletedTask,
  Page,
  TaskChanges,
  TaskKey,
  TaskQuery,
} from '../../ports/batch-task-store.ts';
import { mapLimit } from '../../map-limit.ts';
import { indexKeys } from '../../table.ts';
import { batchKeys, counterAttribute, DELETING, UNFINISHED } from './batch-task-keys.ts';
import { deletedTaskFromItem, targetsFromPart, taskFromItem } from './batch-task-items.ts';
import { applied } from './conditional.ts';
import { batchWriteAll } from './coalesced-items.ts';
import { countAll, queryUpTo } from './query-pages.ts';
import { UpdateExpression } from './update-expression.ts';

// Calls in parallel when a task's target parts are written or read.
const PARTS_AT_ONCE = 8;

const partNumbers = (total: number) => Array.from({ length: partCount(total) }, (_, i) => i);

/** Batch task items (and their target parts) in the one table; sub-tasks are DynamoDbSubtaskStore's. */
export class DynamoDbBatchTaskStore implements BatchTaskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(t: BatchTaskRecord): Promise<boolean> {
    const { progress, ...rest } = t;
    const ok = await applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...batchKeys.task(t),
            [indexKeys.taskList.pk]: batchKeys.taskList(t.project, t.taskType),
            [indexKeys.taskList.sk]: t.taskId,
            [indexKeys.taskListByStatus.pk]: batchKeys.taskListByStatus(t.project, t.taskType, t.status),
            [indexKeys.taskListByStatus.sk]: t.taskId,
            [indexKeys.unfinishedTasks.pk]: UNFINISHED,
            [indexKeys.unfinishedTasks.sk]: t.taskId,
            ...rest,
            ...Object.fromEntries(PROGRESS_FIELDS.map((f) => [counterAttribute(f), progress[f]])),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return ok;
  }

  async storeTargets(k: TaskKey, targets: readonly string[]): Promise<void> {
    // One item per part, each in its own partition: a few large writes, spread.
    await mapLimit(partNumbers(targets.length), PARTS_AT_ONCE, (part) => {
      const Item = {
        ...batchKeys.targetPart(k, part),
        targets: targets.slice(part * TARGETS_PER_PART, (part + 1) * TARGETS_PER_PART),
      };
      return applied(
        this.db.send(new PutCommand({ TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
    });
  }

  async targets(k: TaskKey, total: number): Promise<string[]> {
    const parts = await mapLimit(partNumbers(total), PARTS_AT_ONCE, async (part) => {
      const Key = batchKeys.targetPart(k, part);
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }));
      return targetsFromPart(out.Item);
    });
    return parts.flat();
  }

  async get(k: TaskKey): Promise<BatchTaskRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: batchKeys.task(k), ConsistentRead: true }),
    );
    // A task being deleted is gone for every reader.
    return out.Item && out.Item.deleted !== true ? taskFromItem(out.Item) : undefined;
  }

  async list(project: string, q: TaskQuery): Promise<Page<BatchTaskRecord>> {
    const index = q.status ? indexKeys.taskListByStatus : indexKeys.taskList;
    const pk = q.status
      ? batchKeys.taskListByStatus(project, q.taskType, q.status)
      : batchKeys.taskList(project, q.taskType);
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
    return { items: items.slice(q.offset).map(taskFromItem), count };
  }

  moveTask(
    k: TaskKey & { taskType: string; run: number },
    from: readonly TaskStatus[],
    to: TaskStatus,
    set: TaskChanges = {},
  ): Promise<boolean> {
    const u = new UpdateExpression();
    // The by-status list key moves with the status.
    u.set('status', to).set(indexKeys.taskListByStatus.pk, batchKeys.taskListByStatus(k.project, k.taskType, to));
    u.when(u.isIn('status', from)).when('attribute_not_exists(deleted)');
    if (set.statusDesc !== undefined) u.set('statusDesc', set.statusDesc);
    if (set.progress) for (const f of PROGRESS_FIELDS) u.set(counterAttribute(f), set.progress[f]);
    if (set.startAt !== undefined) u.set('startAt', set.startAt);
    if (set.rerunFrom !== undefined) u.set('rerunFrom', set.rerunFrom);
    // A new run starts at its first pass.
    if (set.run !== undefined) u.set('run', set.run).set('pass', set.pass ?? 1);
    else if (set.pass !== undefined) u.set('pass', set.pass);
    // A new run, or the next pass, only from the run it was decided on: two starts at once cannot both win.
    if (set.run !== undefined || set.pass !== undefined)
      u.when(`(attribute_not_exists(${u.name('run')}) OR ${u.name('run')} = ${u.value(k.run)})`);
    // Only unfinished tasks are in the sparse index: an ended one leaves it, a retried one comes back.
    const unfinished = indexKeys.unfinishedTasks;
    if (FINISHED.includes(to)) u.remove(unfinished.pk, unfinished.sk);
    else u.set(unfinished.pk, UNFINISHED).set(unfinished.sk, k.taskId);
    return applied(this.db.send(new UpdateCommand({ TableName: this.table, Key: batchKeys.task(k), ...u.build() })));
  }

  markDeleted(k: TaskKey): Promise<boolean> {
    const u = new UpdateExpression()
      .set('deleted', true)
      .set(indexKeys.unfinishedTasks.pk, DELETING)
      .set(indexKeys.unfinishedTasks.sk, k.taskId)
      .remove(
        indexKeys.taskList.pk,
        indexKeys.taskList.sk,
        indexKeys.taskListByStatus.pk,
        indexKeys.taskListByStatus.sk,
      );
    u.when(u.isIn('status', FINISHED)).when('attribute_not_exists(deleted)');
    return applied(this.db.send(new UpdateCommand({ TableName: this.table, Key: batchKeys.task(k), ...u.build() })));
  }

  async purgeDeleted(t: DeletedTask): Promise<void> {
    // The parts storeTargets wrote (none for a task of at most INLINE_TARGETS: its targets are on the task item).
    if (t.total > INLINE_TARGETS) {
      const parts = partNumbers(t.total).map((part) => batchKeys.targetPart(t, part));
      for (let i = 0; i < parts.length; i += 25)
        await batchWriteAll(
          this.db,
          this.table,
          parts.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
        );
    }
    // Last, so a purge cut short is found again through the index; only a task still marked deleted.
    await applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: batchKeys.task(t),
          ConditionExpression: 'deleted = :true',
          ExpressionAttributeValues: { ':true': true },
        }),
      ),
    );
  }

  async deleting(limit: number): Promise<DeletedTask[]> {
    return (await this.sparseList(DELETING, limit)).map(deletedTaskFromItem);
  }

  async unfinished(limit: number): Promise<BatchTaskRecord[]> {
    return (await this.sparseList(UNFINISHED, limit)).map(taskFromItem);
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
    const moves = PROGRESS_FIELDS.filter((f) => delta[f]);
    if (!moves.length) return;
    const u = new UpdateExpression();
    for (const f of moves) u.add(counterAttribute(f), delta[f]!);
    // Not on a task that is gone (ADD would create a bare item), ended, or run again since.
    u.when('attribute_exists(pk)')
      .when(`(${u.name('run')} = ${u.value(k.run)} OR attribute_not_exists(${u.name('run')}))`)
      .when(`NOT (${u.isIn('status', FINISHED)})`);
    await applied(this.db.send(new UpdateCommand({ TableName: this.table, Key: batchKeys.task(k), ...u.build() })));
  }
}
