import type { DeviceRecord } from '../ports/device-store.ts';
import type { ProductSummary } from '../ports/product-store.ts';
import { compactUtc } from '../time.ts';

/**
 * The IoTDA device object; never carries the secret. A device that never connected is INACTIVE, as in IoTDA.
 * A field without a value is left out, as IoTDA leaves it out (not null): `product_name` for a device whose
 * product is not stored (added before products existed), the times for a device never connected. The
 * resource space is the project: `app_name` is its id, as a project has no other name.
 */
export const deviceView = (d: DeviceRecord, product: Pick<ProductSummary, 'name'> | undefined) => ({
  app_id: d.project,
  app_name: d.project,
  device_id: d.deviceId,
  node_id: d.nodeId,
  gateway_id: d.deviceId,
  device_name: d.name ?? d.nodeId,
  node_type: 'GATEWAY',
  ...(d.description !== undefined ? { description: d.description } : {}),
  product_id: d.productId,
  ...(product ? { product_name: product.name } : {}),
  auth_info: { auth_type: 'SECRET', secure_access: false },
  status: d.presence.status ?? 'INACTIVE',
  create_time: compactUtc(d.createdAt),
  ...(d.presence.lastOnlineAt !== undefined ? { last_online_time: compactUtc(d.presence.lastOnlineAt) } : {}),
  ...(d.presence.statusAt !== undefined ? { connection_status_update_time: compactUtc(d.presence.statusAt) } : {}),
});
