import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SyncKind } from '../../domain/sync-requests.ts';
import type { PendingRequest, RequestStore } from '../../ports/request-store.ts';
import { keys, TABLE } from '../../table.ts';
import { applied } from './conditional.ts';
import { StoredRequest } from './stored-items.ts';
import type { ItemReader, ItemWriter } from './coalesced-items.ts';

// Request items are only read while their caller waits; TTL removes them a day later.
const KEEP_SECONDS = 86_400;

export class DynamoDbRequestStore implements RequestStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
    private readonly writer: ItemWriter,
  ) {}

  async open(r: PendingRequest): Promise<void> {
    // Request ids are random UUIDs, so the put needs no condition and can share a BatchWriteItem.
    await this.writer.put({
      ...keys.request(r.requestId),
      ...r,
      [TABLE.ttlAttribute]: Math.floor(r.createdAt / 1000) + KEEP_SECONDS,
    });
  }

  respond(requestId: string, deviceId: string, kind: SyncKind, responseText: string): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.request(requestId),
          UpdateExpression: 'SET responseText = :text',
          ConditionExpression: 'deviceId = :device AND kind = :kind AND attribute_not_exists(responseText)',
          ExpressionAttributeValues: { ':text': responseText, ':device': deviceId, ':kind': kind },
        }),
      ),
    );
  }

  async responseOf(requestId: string): Promise<string | undefined> {
    // Polled by every waiting caller: coalesced with the other reads of the moment.
    const item = await this.reader.get(keys.request(requestId));
    return item && StoredRequest.parse(item).responseText;
  }
}
