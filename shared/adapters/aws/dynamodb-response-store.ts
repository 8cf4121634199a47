import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResponseKey, ResponseStore } from '../../ports/response-store.ts';
import { keys, TABLE } from '../../table.ts';
import { applied } from './conditional.ts';
import type { ItemReader } from './coalesced-items.ts';
import { StoredResponse } from './stored-items.ts';

// Answers are only read while their caller waits; TTL removes them a day later.
const KEEP_SECONDS = 86_400;

const keyOf = (k: ResponseKey) => keys.response(k.requestId, k.deviceId, k.kind);

export class DynamoDbResponseStore implements ResponseStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
    private readonly now: () => number,
  ) {}

  respond(key: ResponseKey, responseText: string): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keyOf(key), responseText, [TABLE.ttlAttribute]: Math.floor(this.now() / 1000) + KEEP_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async responseOf(key: ResponseKey): Promise<string | undefined> {
    // Polled by every waiting caller: coalesced with the other reads of the moment.
    const item = await this.reader.get(keyOf(key));
    return item && StoredResponse.parse(item).responseText;
  }
}
