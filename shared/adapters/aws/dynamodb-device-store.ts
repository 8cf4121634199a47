import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Presence } from '../../domain/presence.ts';
import { ConditionFailedError } from '../../errors.ts';
import type { DeviceRecord, DeviceRegistration, DeviceStore } from '../../ports/device-store.ts';
import { keys } from '../../table.ts';
import { applied } from './conditional.ts';
import type { ItemReader } from './coalesced-items.ts';

/** The condition that the stored device is still this registration (devices stored before generations have none). */
export const sameRegistration = (generation: string) =>
  generation
    ? { condition: 'generation = :generation', values: { ':generation': generation } }
    : { condition: 'attribute_not_exists(generation)', values: {} };

export class DynamoDbDeviceStore implements DeviceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
  ) {}

  async create(device: DeviceRecord): Promise<void> {
    const ok = await applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.device(device.deviceId), ...device },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!ok) throw new ConditionFailedError(`device ${device.deviceId} exists`);
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    // A batch chunk looks up its 100 devices at once: coalesced into one read.
    const item = await this.reader.get(keys.device(deviceId));
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, ...device } = item;
    return { generation: '', ...device } as unknown as DeviceRecord;
  }

  delete(project: string, device: DeviceRegistration): Promise<boolean> {
    const same = sameRegistration(device.generation);
    return applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.device(device.deviceId),
          ConditionExpression: `attribute_exists(pk) AND #project = :project AND ${same.condition}`,
          ExpressionAttributeNames: { '#project': 'project' },
          ExpressionAttributeValues: { ':project': project, ...same.values },
        }),
      ),
    );
  }

  savePresence(device: DeviceRegistration, presence: Presence, expectedRev: number): Promise<boolean> {
    const same = sameRegistration(device.generation);
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.device(device.deviceId),
          UpdateExpression: 'SET presence = :presence, rev = :next',
          ConditionExpression: `attribute_exists(pk) AND rev = :rev AND ${same.condition}`,
          ExpressionAttributeValues: { ':presence': presence, ':rev': expectedRev, ':next': expectedRev + 1, ...same.values },
        }),
      ),
    );
  }
}
