import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiTokenRecord } from '../../domain/api-tokens.ts';
import type { TokenStore } from '../../ports/token-store.ts';
import { keys } from '../../table.ts';
import type { ItemReader } from './coalesced-items.ts';
import { queryUpTo } from './query-pages.ts';
import { applied } from './conditional.ts';
import { StoredToken } from './stored-items.ts';

const toRecord = (item: Record<string, unknown>): ApiTokenRecord => StoredToken.parse(item);

export class DynamoDbTokenStore implements TokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** The runtime's coalesced reads (the functions); a lone GetItem without it (the tokens CLI). */
    private readonly reader?: ItemReader,
  ) {}

  async put(record: ApiTokenRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.token(record.tokenHash),
          gsi1pk: keys.tokenList,
          gsi1sk: `${String(record.createdAt).padStart(15, '0')}#${record.tokenId}`,
          ...record,
        },
      }),
    );
  }

  async getByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    // Every API call reads its token or key: coalesced with the other reads of the moment (50 calls in flight, one BatchGetItem).
    const item = this.reader
      ? await this.reader.get(keys.token(tokenHash))
      : (
          await this.db.send(
            new GetCommand({ TableName: this.table, Key: keys.token(tokenHash), ConsistentRead: true }),
          )
        ).Item;
    return item ? toRecord(item) : undefined;
  }

  async list(): Promise<ApiTokenRecord[]> {
    const items = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :list',
        ExpressionAttributeValues: { ':list': keys.tokenList },
      },
      Infinity,
    );
    return items.map(toRecord);
  }

  async revoke(tokenId: string): Promise<boolean> {
    const match = (await this.list()).find((t) => t.tokenId === tokenId);
    if (!match) return false;
    return applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.token(match.tokenHash),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      ),
    );
  }
}
