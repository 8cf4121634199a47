import { effectiveStatus, HISTORY_SIZE, type MessageRecord } from '../domain/messages.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { compactUtc } from '../time.ts';
import { idString, parseInput } from '../validation.ts';
import { findDevice, type ShowDeviceDeps } from './show-device.ts';

/** The ports this use case uses. */
export type ShowMessagesDeps = Pick<Deps, 'clock' | 'messages'> & ShowDeviceDeps;

/**
 * IoTDA §2.5 DeviceMessage, with a status that is never stale: an expired PENDING reads as TIMEOUT. Fields
 * without a value are left out, as IoTDA (and CreateMessage's `result`) leave them out.
 */
const messageView = (m: MessageRecord, now: number) => {
  const { status, finishedAt } = effectiveStatus(m, now);
  return {
    message_id: m.messageId,
    ...(m.name !== undefined ? { name: m.name } : {}),
    message: m.message,
    encoding: m.encoding,
    payload_format: m.payloadFormat,
    topic: m.topic,
    ...(m.properties !== undefined ? { properties: m.properties } : {}),
    status,
    ...(m.errorInfo !== undefined ? { error_info: m.errorInfo } : {}),
    created_time: compactUtc(m.createdAt),
    ...(finishedAt !== undefined ? { finished_time: compactUtc(finishedAt) } : {}),
  };
};

export const listMessages = async (deps: ShowMessagesDeps, project: string, rawDeviceId: string | undefined) => {
  const device = await findDevice(deps, project, rawDeviceId);
  const now = deps.clock.now();
  const messages = await deps.messages.newest(device, HISTORY_SIZE);
  return { device_id: device.deviceId, messages: messages.map((m) => messageView(m, now)) };
};

export const showMessage = async (
  deps: ShowMessagesDeps,
  project: string,
  rawDeviceId: string | undefined,
  rawMessageId: string | undefined,
) => {
  const device = await findDevice(deps, project, rawDeviceId);
  const messageId = parseInput(idString(128), rawMessageId);
  const m = await deps.messages.get({ deviceId: device.deviceId, generation: device.generation, messageId });
  if (!m) throw errors.messageNotFound(messageId);
  return messageView(m, deps.clock.now());
};
