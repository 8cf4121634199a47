import type { DeviceRecord } from '../ports/device-store.ts';
import type { ProductSummary } from '../ports/product-store.ts';
import { compactUtc } from '../time.ts';

/**
 * The IoTDA device object; never carries the secret. A device that never connected is INACTIVE, as in IoTDA.
 * `product_name` is null for a device whose product is not stored (added before products existed).
 */
export const deviceView = (d: DeviceRecord, product: Pick<ProductSummary, 'name'> | undefined) => ({
  app_id: d.project,
  device_id: d.deviceId,
  node_id: d.nodeId,
  gateway_id: d.deviceId,
  device_name: d.name ?? d.nodeId,
  node_type: 'GATEWAY',
  description: d.description ?? null,
  product_id: d.productId,
  product_name: product?.name ?? null,
  auth_info: { auth_type: 'SECRET', secure_access: false },
  status: d.presence.status ?? 'INACTIVE',
  create_time: compactUtc(d.createdAt),
  last_online_time: d.presence.lastOnlineAt !== undefined ? compactUtc(d.presence.lastOnlineAt) : null,
  connection_status_update_time: d.presence.statusAt !== undefined ? compactUtc(d.presence.statusAt) : null,
});
