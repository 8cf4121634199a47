import {
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Presence } from '../../domain/presence.ts';
import type { DeviceQuery, DeviceRecord, DeviceRegistration, DeviceStore } from '../../ports/device-store.ts';
import { indexKeys, keys } from '../../table.ts';
import { applied } from './conditional.ts';
import { StoredDevice } from './stored-items.ts';
import type { ItemReader } from './coalesced-items.ts';
import { countAll, queryUpTo } from './query-pages.ts';

/** The condition that the stored device is still this registration (devices stored before generations have none). */
const sameRegistration = (generation: string) =>
  generation
    ? { condition: 'generation = :generation', values: { ':generation': generation } }
    : { condition: 'attribute_not_exists(generation)', values: {} };

const toRecord = (item: Record<string, unknown>): DeviceRecord => StoredDevice.parse(item);

export class DynamoDbDeviceStore implements DeviceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
  ) {}

  async create(device: DeviceRecord): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.device(device.deviceId),
            [indexKeys.deviceList.pk]: keys.deviceList(device.project),
            [indexKeys.deviceList.sk]: device.listId,
            ...device,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    // A batch chunk looks up its 100 devices at once: coalesced into one read.
    const item = await this.reader.get(keys.device(deviceId));
    return item && toRecord(item);
  }

  async list(project: string, q: DeviceQuery): Promise<{ items: DeviceRecord[]; count: number }> {
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':pk': keys.deviceList(project) };
    const names: Record<string, string> = { '#pk': indexKeys.deviceList.pk };
    const filter = (attr: string, value: string | undefined, test: (name: string) => string) => {
      if (value === undefined) return;
      names[`#${attr}`] = attr;
      values[`:${attr}`] = value;
      filters.push(test(`#${attr}`));
    };
    filter('productId', q.productId, (n) => `${n} = :productId`);
    filter('nodeId', q.nodeId, (n) => `${n} = :nodeId`);
    filter('name', q.nameContains, (n) => `contains(${n}, :name)`);
    const base: QueryCommandInput = {
      TableName: this.table,
      IndexName: indexKeys.deviceList.index,
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    };
    const [found, count] = await Promise.all([
      queryUpTo(
        this.db,
        {
          ...base,
          KeyConditionExpression: '#pk = :pk AND #sk < :below',
          ExpressionAttributeNames: { ...names, '#sk': indexKeys.deviceList.sk },
          ExpressionAttributeValues: { ...values, ':below': q.below },
          ScanIndexForward: false,
        },
        q.offset + q.limit,
      ),
      // IoTDA's page.count is every match: the count reads the whole list.
      countAll(this.db, {
        ...base,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ]);
    return { items: found.slice(q.offset, q.offset + q.limit).map(toRecord), count };
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
          ExpressionAttributeValues: {
            ':presence': presence,
            ':rev': expectedRev,
            ':next': expectedRev + 1,
            ...same.values,
          },
        }),
      ),
    );
  }
}
