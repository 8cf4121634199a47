import { compactUtc, isoUtcMs } from '../time.ts';

/** Huawei push envelope (CONTRACT.md §3, IoTDA §5.1). */
export interface NotificationEnvelope {
  resource: string;
  event: string;
  event_time: string;
  event_time_ms: string;
  request_id: string;
  notify_data: { header?: Record<string, unknown>; body: Record<string, unknown> };
}

export interface DeviceHeaderSource {
  project: string;
  deviceId: string;
  nodeId: string;
  productId: string;
}

/** IoTDA §5.1 header; `gateway_id` equals `device_id` for directly connected devices. */
export const deviceHeader = (d: DeviceHeaderSource) => ({
  app_id: d.project,
  device_id: d.deviceId,
  node_id: d.nodeId,
  product_id: d.productId,
  gateway_id: d.deviceId,
});

export const envelope = (input: {
  resource: string;
  event: string;
  at: number;
  requestId: string;
  header?: Record<string, unknown>;
  body: Record<string, unknown>;
}): NotificationEnvelope => ({
  resource: input.resource,
  event: input.event,
  event_time: compactUtc(input.at),
  event_time_ms: isoUtcMs(input.at),
  request_id: input.requestId,
  notify_data: input.header ? { header: input.header, body: input.body } : { body: input.body },
});
