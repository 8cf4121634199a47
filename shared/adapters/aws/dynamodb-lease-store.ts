import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LeaseStore } from '../../ports/lease-store.ts';
import { keys, TABLE } from '../../table.ts';
import { applied } from './conditional.ts';

// TTL removes a lease item a day after it ran out (a holder that died never released it).
const KEEP_SECONDS = 24 * 3600;

export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  acquire(name: string, holder: string, nowMs: number, untilMs: number): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.lease(name),
            holder,
            leaseUntil: untilMs,
            [TABLE.ttlAttribute]: Math.floor(untilMs / 1000) + KEEP_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil <= :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      ),
    );
  }

  async release(name: string, holder: string): Promise<void> {
    // Not ours any more (it ran out and another took it): leave it to its holder.
    await applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.lease(name),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      ),
    );
  }
}
