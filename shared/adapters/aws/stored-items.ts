import * as z from 'zod';
import type { ApiTokenRecord } from '../../domain/api-tokens.ts';
import type { MessageRecord } from '../../domain/messages.ts';
import type { DeviceRecord } from '../../ports/device-store.ts';
import type { MessageKey } from '../../ports/message-store.ts';
import type { ProductSummary } from '../../ports/product-store.ts';

/**
 * The table's items as the stores read them: parsed, not cast, at the adapter's edge. Each schema keeps the
 * record's fields and drops the table's own (pk, sk, index keys). Items stored before generations existed
 * belong to their id's first registration, ''.
 */
const generation = z.string().default('');

const presence = z.object({
  status: z.enum(['ONLINE', 'OFFLINE']).optional(),
  at: z.number().optional(),
  session: z.string().optional(),
  clientId: z.string().optional(),
  subscribed: z.boolean().optional(),
  subscribedEvent: z.string().optional(),
  ended: z.array(z.string()).optional(),
  lastOnlineAt: z.number().optional(),
  statusAt: z.number().optional(),
  statusEvent: z.string().optional(),
});

export const StoredDevice: z.ZodType<DeviceRecord> = z.object({
  project: z.string(),
  deviceId: z.string(),
  generation,
  // Devices stored before ListDevices had none until a start gave them one (local/dynamodb.ts); never listed.
  listId: z.string().default(''),
  nodeId: z.string(),
  productId: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  secret: z.string(),
  createdAt: z.number(),
  rev: z.number(),
  presence,
});

export const StoredMessageKey: z.ZodType<MessageKey> = z.object({
  deviceId: z.string(),
  generation,
  messageId: z.string(),
});

export const StoredMessage: z.ZodType<MessageRecord> = z.object({
  project: z.string(),
  deviceId: z.string(),
  generation,
  messageId: z.string(),
  name: z.string().optional(),
  message: z.unknown(),
  encoding: z.enum(['none', 'base64']),
  payloadFormat: z.enum(['standard', 'raw']),
  topic: z.string(),
  properties: z.record(z.string(), z.unknown()).optional(),
  ttlMinutes: z.number(),
  status: z.enum(['PENDING', 'DELIVERED', 'FAILED', 'TIMEOUT']),
  createdAt: z.number(),
  deadline: z.number(),
  finishedAt: z.number().optional(),
  errorInfo: z.object({ error_code: z.string(), error_msg: z.string() }).optional(),
  batchTaskId: z.string().optional(),
});

export const StoredToken: z.ZodType<ApiTokenRecord> = z.object({
  tokenId: z.string(),
  tokenHash: z.string(),
  projects: z.array(z.string()),
  name: z.string().optional(),
  createdAt: z.number(),
  secretKey: z.string().optional(),
});

const productFields = {
  project: z.string(),
  productId: z.string(),
  listId: z.string(),
  name: z.string(),
  deviceType: z.string(),
  protocolType: z.string(),
  dataFormat: z.enum(['json', 'binary']),
  manufacturerName: z.string().optional(),
  industry: z.string().optional(),
  description: z.string().optional(),
  createdAt: z.number(),
  version: z.number(),
};

export const StoredProductSummary: z.ZodType<ProductSummary> = z.object(productFields);

/** A product item: its summary, its model packed (gzipped JSON), and a delete's mark while one runs. */
export const StoredProduct = z.object({
  ...productFields,
  model: z.instanceof(Uint8Array),
  deleting: z.number().optional(),
});

/** A device's link to its product (ProductStore.link). */
export const StoredProductLink = z.object({ deviceId: z.string(), generation, linkedAt: z.number() });

/** A device's answer to a sync request. */
export const StoredResponse = z.object({ responseText: z.string() });
