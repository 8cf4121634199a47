import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ErrorInfo, MessageRecord, MessageStatus } from '../../domain/messages.ts';
import type { DeviceRegistration } from '../../ports/device-store.ts';
import type { MessageKey, MessageStore } from '../../ports/message-store.ts';
import { indexKeys, keys, messagePrefix } from '../../table.ts';
import { deleteItems } from './coalesced-items.ts';
import { applied } from './conditional.ts';
import { StoredMessage, StoredMessageKey } from './stored-items.ts';
import { queryUpTo } from './query-pages.ts';

const pad = (n: number) => String(n).padStart(15, '0');

/** Expiry index partitions: spread so that no one partition takes every PENDING message's write. */
const EXPIRY_SHARDS = 8;
const shardOf = (deviceId: string) =>
  [...deviceId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % EXPIRY_SHARDS;

const toRecord = (item: Record<string, unknown>): MessageRecord => StoredMessage.parse(item);

const keyOf = (k: MessageKey) => keys.message(k.deviceId, k.generation, k.messageId);

/** Records of a device stored before generations keep no generation attribute (their keys have none either). */
const withoutLegacyGeneration = (m: MessageRecord) => {
  if (m.generation) return m;
  const { generation: _g, ...rest } = m;
  return rest;
};

export class DynamoDbMessageStore implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(m: MessageRecord): Promise<boolean> {
    const order = `${pad(m.createdAt)}#${m.messageId}`;
    const pending =
      m.status === 'PENDING'
        ? {
            [indexKeys.pending.pk]: keys.pendingMessages(m.deviceId, m.generation),
            [indexKeys.pending.sk]: order,
            [indexKeys.expiry.pk]: `EXPIRY#${shardOf(m.deviceId)}`,
            [indexKeys.expiry.sk]: `${pad(m.deadline)}#${m.deviceId}#${m.messageId}`,
          }
        : {};
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.message(m.deviceId, m.generation, m.messageId),
            [indexKeys.history.pk]: keys.messageHistory(m.deviceId, m.generation),
            [indexKeys.history.sk]: order,
            ...pending,
            ...withoutLegacyGeneration(m),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(key: MessageKey): Promise<MessageRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }));
    return out.Item ? toRecord(out.Item) : undefined;
  }

  /**
   * Newest first, page after page: a page stops at 1 MB read, five messages of 200 KB, so one page is not
   * the whole history (a device kept every large message, and listed only the newest five).
   */
  private historyItems(device: DeviceRegistration, limit: number, projection?: string) {
    return queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: indexKeys.history.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': indexKeys.history.pk },
        ExpressionAttributeValues: { ':pk': keys.messageHistory(device.deviceId, device.generation) },
        ScanIndexForward: false,
        ...(projection ? { ProjectionExpression: projection } : {}),
      },
      limit,
    );
  }

  async newest(device: DeviceRegistration, limit: number): Promise<MessageRecord[]> {
    return (await this.historyItems(device, limit)).map(toRecord);
  }

  async beyond(device: DeviceRegistration, keep: number): Promise<MessageRecord[]> {
    // Keys only, then the few past `keep` whole: the kept ones can be 20 × 256 KB. Trims come often (every
    // message stored PENDING, every tenth delivered at once per instance: create-message.ts trimDue), so a
    // device holds a few more than `keep` at most and `keep + 100` reaches past them; any left over go at the
    // next trim.
    const past = (await this.historyItems(device, keep + 100, 'deviceId, generation, messageId')).slice(keep);
    const records = await Promise.all(past.map((k) => this.get(StoredMessageKey.parse(k))));
    return records.filter((r) => r !== undefined);
  }

  async pendingOf(device: DeviceRegistration): Promise<MessageRecord[]> {
    const items = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: indexKeys.pending.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': indexKeys.pending.pk },
        ExpressionAttributeValues: { ':pk': keys.pendingMessages(device.deviceId, device.generation) },
      },
      Infinity,
    );
    return items.map(toRecord);
  }

  async expiredPending(now: number, limit: number): Promise<MessageKey[]> {
    const found: MessageKey[] = [];
    for (let shard = 0; shard < EXPIRY_SHARDS && found.length < limit; shard++) {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: indexKeys.expiry.index,
          KeyConditionExpression: '#pk = :pk AND #sk <= :now',
          ExpressionAttributeNames: { '#pk': indexKeys.expiry.pk, '#sk': indexKeys.expiry.sk },
          ExpressionAttributeValues: { ':pk': `EXPIRY#${shard}`, ':now': `${pad(now)}#~` },
          ProjectionExpression: 'deviceId, generation, messageId',
          Limit: limit - found.length,
        }),
      );
      found.push(...(page.Items ?? []).map((k) => StoredMessageKey.parse(k)));
    }
    return found;
  }

  finish(key: MessageKey, to: Exclude<MessageStatus, 'PENDING'>, at: number, errorInfo?: ErrorInfo): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keyOf(key),
          // Leaving PENDING also leaves the sparse pending and expiry indexes.
          UpdateExpression: `SET #status = :to, finishedAt = :at${errorInfo ? ', errorInfo = :error' : ''} REMOVE ${indexKeys.pending.pk}, ${indexKeys.pending.sk}, ${indexKeys.expiry.pk}, ${indexKeys.expiry.sk}`,
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': to,
            ':at': at,
            ':pending': 'PENDING',
            ...(errorInfo ? { ':error': errorInfo } : {}),
          },
        }),
      ),
    );
  }

  async remove(key: MessageKey): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keyOf(key) }));
  }

  async removeAll(device: DeviceRegistration): Promise<number> {
    // The base table, read consistently: a message stored just before the device's delete is found too.
    // Other registrations' messages share the partition; the legacy prefix 'MSG#' covers them all, so the
    // generation is checked as well.
    const items = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: device.generation ? 'generation = :generation' : 'attribute_not_exists(generation)',
        ExpressionAttributeValues: {
          ':pk': keys.device(device.deviceId).pk,
          ':prefix': messagePrefix(device.generation),
          ...(device.generation ? { ':generation': device.generation } : {}),
        },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      },
      Infinity,
    );
    await deleteItems(this.db, this.table, items);
    return items.length;
  }
}
