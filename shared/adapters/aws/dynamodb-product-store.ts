import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DeviceRegistration } from '../../ports/device-store.ts';
import type {
  DeleteProductOutcome,
  ProductQuery,
  ProductRecord,
  ProductStore,
  ProductSummary,
} from '../../ports/product-store.ts';
import { indexKeys, keys } from '../../table.ts';
import type { ItemReader } from './coalesced-items.ts';
import { applied } from './conditional.ts';
import { ServiceCapabilities } from '../../domain/product-model.ts';
import { StoredProduct, StoredProductLink, StoredProductSummary } from './stored-items.ts';
import { queryUpTo } from './query-pages.ts';

/**
 * How long a delete's mark hides a product, and how long a device link counts as an AddDevice in flight:
 * both are only ever that old when the call that wrote them died.
 */
const IN_FLIGHT_MS = 60_000;

const SUMMARY_FIELDS = [
  'project',
  'productId',
  'listId',
  'name',
  'deviceType',
  'protocolType',
  'dataFormat',
  'manufacturerName',
  'industry',
  'description',
  'createdAt',
  'version',
] as const;

// The model is kept gzipped: IoTDA allows 500 KB of capability JSON, over DynamoDB's 400 KB item limit, and
// as one binary value it escapes DynamoDB's 32 levels of nesting and its number limits.
const packModel = (p: ProductRecord) => gzipSync(JSON.stringify(p.serviceCapabilities));
const unpackModel = (model: Uint8Array) => ServiceCapabilities.parse(JSON.parse(gunzipSync(model).toString('utf8')));

/**
 * Unpacked models by product and version: every command reads its product, and unpacking is most of that
 * read's CPU. Keyed by the product's list id (new if it is deleted and made again) and the version read
 * with the item, so an update is seen at once; bounded.
 */
const MODELS_KEPT = 256;
const unpacked = new Map<string, ProductRecord['serviceCapabilities']>();
const modelOf = (item: { listId: string; version: number; model: Uint8Array }) => {
  const key = `${item.listId}#${item.version}`;
  let model = unpacked.get(key);
  if (!model) {
    model = unpackModel(item.model);
    if (unpacked.size >= MODELS_KEPT) unpacked.delete(unpacked.keys().next().value!);
    unpacked.set(key, model);
  }
  return model;
};

const toSummary = (item: Record<string, unknown>): ProductSummary => StoredProductSummary.parse(item);

const linkKey = (productId: string, d: DeviceRegistration) => ({
  pk: keys.product(productId).pk,
  sk: `DEVICE#${d.deviceId}#${d.generation}`,
});

export class DynamoDbProductStore implements ProductStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
    private readonly now: () => number,
  ) {}

  private item(p: ProductRecord) {
    const { serviceCapabilities: _s, ...fields } = p;
    return {
      ...keys.product(p.productId),
      [indexKeys.productList.pk]: keys.productList(p.project),
      [indexKeys.productList.sk]: p.listId,
      ...fields,
      model: packModel(p),
    };
  }

  async create(p: ProductRecord): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({ TableName: this.table, Item: this.item(p), ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  async get(productId: string): Promise<ProductRecord | undefined> {
    // Every command reads its device's product: coalesced, so a batch chunk's 100 reads of one product are one.
    const read = await this.reader.get(keys.product(productId));
    if (!read) return undefined;
    const item = StoredProduct.parse(read);
    const { model: _, deleting, ...summary } = item;
    if (deleting !== undefined && deleting > this.now() - IN_FLIGHT_MS) return undefined;
    return { ...summary, serviceCapabilities: modelOf(item) };
  }

  async list(project: string, q: ProductQuery): Promise<{ items: ProductSummary[]; count: number }> {
    // A project holds at most a thousand products (IoTDA's quota): read them all, for the filter and the count.
    const all = (
      await queryUpTo(
        this.db,
        {
          TableName: this.table,
          IndexName: indexKeys.productList.index,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': indexKeys.productList.pk,
            ...Object.fromEntries(SUMMARY_FIELDS.map((f) => [`#${f}`, f])),
          },
          ExpressionAttributeValues: { ':pk': keys.productList(project) },
          ProjectionExpression: SUMMARY_FIELDS.map((f) => `#${f}`).join(', '),
          ScanIndexForward: false,
        },
        Infinity,
      )
    ).map(toSummary);
    const matching = q.nameContains === undefined ? all : all.filter((p) => p.name.includes(q.nameContains!));
    const items = matching.filter((p) => p.listId < q.below).slice(q.offset, q.offset + q.limit);
    return { items, count: matching.length };
  }

  replace(p: ProductRecord): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(p),
          ConditionExpression:
            'attribute_exists(pk) AND #project = :project AND #version = :seen AND attribute_not_exists(deleting)',
          ExpressionAttributeNames: { '#project': 'project', '#version': 'version' },
          ExpressionAttributeValues: { ':project': p.project, ':seen': p.version - 1 },
        }),
      ),
    );
  }

  /**
   * Mark, look, then delete: the mark hides the product from AddDevice, which links a device before it
   * looks the product up again, so either the delete sees the link or the add sees the mark.
   */
  async delete(
    project: string,
    productId: string,
    isLive: (d: DeviceRegistration) => Promise<boolean>,
  ): Promise<DeleteProductOutcome> {
    const now = this.now();
    const marked = await applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.product(productId),
          UpdateExpression: 'SET deleting = :now',
          ConditionExpression: 'attribute_exists(pk) AND #project = :project',
          ExpressionAttributeNames: { '#project': 'project' },
          ExpressionAttributeValues: { ':project': project, ':now': now },
        }),
      ),
    );
    if (!marked) return 'not-found';
    if (await this.inUse(productId, isLive, now)) {
      await applied(
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.product(productId),
            UpdateExpression: 'REMOVE deleting',
            ConditionExpression: 'deleting = :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      );
      return 'in-use';
    }
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.product(productId) }));
    return 'deleted';
  }

  /** Whether a live device (or an AddDevice still in flight) uses the product; links their writer left behind are removed. */
  private async inUse(
    productId: string,
    isLive: (d: DeviceRegistration) => Promise<boolean>,
    now: number,
  ): Promise<boolean> {
    const links = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
        ExpressionAttributeValues: { ':pk': keys.product(productId).pk, ':device': 'DEVICE#' },
        ConsistentRead: true,
      },
      Infinity,
    );
    for (const { linkedAt, ...device } of links.map((l) => StoredProductLink.parse(l))) {
      if (linkedAt > now - IN_FLIGHT_MS || (await isLive(device))) return true;
      await this.unlink(productId, device);
    }
    return false;
  }

  async link(productId: string, d: DeviceRegistration, at: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...linkKey(productId, d), deviceId: d.deviceId, generation: d.generation, linkedAt: at },
      }),
    );
  }

  async unlink(productId: string, d: DeviceRegistration): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: linkKey(productId, d) }));
  }
}
