import { awaitResponse } from '../await-response.ts';
import type { ModelRefusal, ServiceDef } from '../domain/product-model.ts';
import { requestTopic, responseBody, type SyncKind } from '../domain/sync-requests.ts';
import type { Deps } from '../ports/deps.ts';
import { type ErrorBody, errors } from '../errors.ts';
import { newUuid } from '../ids.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import type { ProductRecord } from '../ports/product-store.ts';
import { findDeviceAndProduct, type ShowDeviceDeps } from './show-device.ts';

/** The ports this use case uses. */
export type SendSyncRequestDeps = Pick<Deps, 'clock' | 'config' | 'metrics' | 'publisher' | 'responses'> &
  ShowDeviceDeps;

export type SyncOutcome = { requestId: string; response: unknown } | { requestId: string; timedOut: true };

/** IoTDA §2.1: a sync request to a device that is not online is refused before anything is sent. */
const rejectIfOffline = (device: DeviceRecord) => {
  if (device.presence.status !== 'ONLINE') throw errors.deviceOffline(device.deviceId);
};

/** CONTRACT.md §5: checked against the device's product model before anything is sent. */
const rejectIfOffModel = (
  product: ProductRecord | undefined,
  check: (model: readonly ServiceDef[]) => ModelRefusal | undefined,
) => {
  // A device whose product is not stored (added before products existed) is free-form, like a model with no services.
  const refusal = check(product?.serviceCapabilities ?? []);
  if (refusal) throw errors.invalid(refusal.path, refusal.rule);
};

/**
 * The synchronous round trip shared by commands and property set/query: find the device and its product
 * (read together when this instance knows the device), check the request against the product's model, refuse
 * it when offline, publish the request (QoS 1) under a new request id, then wait for that device's answer to
 * that id, which the response rule stores, until the sync timeout.
 */
export const sendSyncRequest = async (
  deps: SendSyncRequestDeps,
  input: {
    project: string;
    deviceId: string | undefined;
    kind: SyncKind;
    payload: unknown;
    check: (model: readonly ServiceDef[]) => ModelRefusal | undefined;
  },
): Promise<SyncOutcome> => {
  const { device, product } = await findDeviceAndProduct(deps, input.project, input.deviceId);
  rejectIfOffModel(product, input.check);
  rejectIfOffline(device);
  const requestId = newUuid();
  const sentAt = deps.clock.now();
  await deps.publisher.publish(
    requestTopic(deps.config.topicRoot, device.deviceId, input.kind, requestId),
    JSON.stringify(input.payload),
    1,
  );
  const command = input.kind === 'command';
  if (command) deps.metrics.count('CommandsSent');
  const text = await awaitResponse(
    () => deps.responses.responseOf({ requestId, deviceId: device.deviceId, kind: input.kind }),
    sentAt + deps.config.commandTimeoutMs,
    deps.clock,
  );
  if (command) deps.metrics.count(text === undefined ? 'CommandsTimedOut' : 'CommandsAnswered');
  return text === undefined ? { requestId, timedOut: true } : { requestId, response: responseBody(text) };
};

/** IoTDA §3: a device that does not answer in time is a 200 carrying IOTDA.014111. */
export const syncTimeout = {
  error_code: 'IOTDA.014111',
  error_msg: 'The device did not respond in time.',
} as const satisfies ErrorBody;
