import { awaitResponse } from '../await-response.ts';
import { requestTopic, responseBody, type SyncKind } from '../domain/sync-requests.ts';
import type { Deps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { newUuid } from '../ids.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { findDevice } from './show-device.ts';

export type SyncOutcome = { requestId: string; response: unknown } | { requestId: string; timedOut: true };

/** IoTDA §2.1: a sync request to a device that is not online is refused before anything is sent. */
const rejectIfOffline = (device: DeviceRecord) => {
  if (device.presence.status !== 'ONLINE')
    throw new ApiError(403, 'IOTDA.014016', `Operation not allowed. The device is not online: ${device.deviceId}`);
};

/**
 * The synchronous round trip shared by commands and property set/query: find the device, refuse it when
 * offline, record the request id as issued to it, publish the request (QoS 1), then wait for the answer
 * the response rule stores, until the sync timeout.
 */
export const sendSyncRequest = async (
  deps: Deps,
  input: { project: string; deviceId: string | undefined; kind: SyncKind; payload: unknown },
): Promise<SyncOutcome> => {
  const device = await findDevice(deps, input.project, input.deviceId);
  rejectIfOffline(device);
  const requestId = newUuid();
  const sentAt = deps.clock.now();
  await deps.requests.open({ requestId, deviceId: device.deviceId, kind: input.kind, createdAt: sentAt });
  await deps.publisher.publish(requestTopic(deps.config.topicRoot, device.deviceId, input.kind, requestId), JSON.stringify(input.payload), 1);
  const text = await awaitResponse(() => deps.requests.responseOf(requestId), sentAt + deps.config.commandTimeoutMs, deps.clock);
  return text === undefined ? { requestId, timedOut: true } : { requestId, response: responseBody(text) };
};

/** IoTDA §3: a device that does not answer in time is a 200 carrying IOTDA.014111. */
export const syncTimeout = {
  error_code: 'IOTDA.014111',
  error_msg: 'The device did not respond in time.',
} as const;
