import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import DataLoader from 'dataloader';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../backoff.ts';

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

// BatchGetItem takes at most 100 keys, BatchWriteItem 25 items.
const MAX_KEYS = 100;
const MAX_WRITES = 25;

const keyOf = (k: { pk?: unknown; sk?: unknown }): string => `${String(k.pk)}\u0000${String(k.sk)}`;

// setImmediate, not DataLoader's default nextTick: what timers and I/O callbacks of one loop turn ask for shares a batch.
const scheduleInLoopTurn = (dispatch: () => void) => void setImmediate(dispatch);

export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/** BatchWriteItem (at most 25 requests) until nothing is left unprocessed: DynamoDB returns what it throttled. */
export const batchWriteAll = async (
  db: DynamoDBDocumentClient,
  table: string,
  requests: WriteRequest[],
): Promise<void> => {
  for (let attempt = 0; requests.length; attempt++) {
    if (attempt) await sleep(backoffDelay(attempt, 20, 1000));
    const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
    requests = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
  }
};

/** Deletes the items with these keys, 25 to a BatchWriteItem. */
export const deleteItems = async (db: DynamoDBDocumentClient, table: string, keys: Item[]): Promise<void> => {
  for (let i = 0; i < keys.length; i += MAX_WRITES)
    await batchWriteAll(
      db,
      table,
      keys.slice(i, i + MAX_WRITES).map((Key) => ({ DeleteRequest: { Key } })),
    );
};

/**
 * Strongly consistent point reads of the table, coalesced: every read asked for in one turn of the event
 * loop goes out as one BatchGetItem. A batch chunk's 100 sub-tasks poll for their answers, and 50 API calls
 * in flight poll for theirs: one request for all of them instead of one each (DynamoDB bills per item
 * either way). A lone read costs one setImmediate of latency.
 */
export class ItemReader {
  private readonly loader: DataLoader<Key, Item | undefined, string>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.loader = new DataLoader<Key, Item | undefined, string>((keys) => this.readAll(keys), {
      cache: false,
      maxBatchSize: MAX_KEYS,
      batchScheduleFn: scheduleInLoopTurn,
      cacheKeyFn: keyOf,
    });
  }

  get(key: Key): Promise<Item | undefined> {
    return this.loader.load(key);
  }

  private async readAll(keys: readonly Key[]): Promise<(Item | undefined)[]> {
    const found = new Map<string, Item>();
    // Repeated keys in one batch (two waiters on one request) are asked for once.
    let pending: Key[] = [...new Map(keys.map((k) => [keyOf(k), k])).values()];
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt) await sleep(backoffDelay(attempt, 10, 1000));
      const out = await this.db.send(
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[this.table] ?? []) found.set(keyOf(item), item);
      // What DynamoDB did not get to (throttling, 16 MB) comes back to be asked again.
      pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
    }
    return keys.map((k) => found.get(keyOf(k)));
  }
}
