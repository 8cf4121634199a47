import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import DataLoader from 'dataloader';

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

// BatchGetItem takes at most 100 keys.
const MAX_KEYS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    this.loader = new DataLoader((keys) => this.readAll(keys), {
      cache: false,
      maxBatchSize: MAX_KEYS,
      // setImmediate, not the default nextTick: timers that fire in one loop turn share a batch.
      batchScheduleFn: (dispatch) => setImmediate(dispatch),
      cacheKeyFn: (k) => `${k.pk}\u0000${k.sk}`,
    });
  }

  get(key: Key): Promise<Item | undefined> {
    return this.loader.load(key);
  }

  private async readAll(keys: readonly Key[]): Promise<(Item | undefined)[]> {
    const found = new Map<string, Item>();
    // Repeated keys in one batch (two waiters on one request) are asked for once.
    let pending: Key[] = [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt) await sleep(Math.min(1000, 10 * 2 ** attempt));
      const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of out.Responses?.[this.table] ?? []) found.set(`${String(item.pk)}\u0000${String(item.sk)}`, item);
      // What DynamoDB did not get to (throttling, 16 MB) comes back to be asked again.
      pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
    }
    return keys.map((k) => found.get(`${k.pk}\u0000${k.sk}`));
  }
}
