import { deviceHeader, envelope } from '../domain/notifications.ts';
import {
  HISTORY_SIZE,
  MESSAGE_ERRORS,
  messagePayload,
  type ErrorInfo,
  type MessageRecord,
  type MessageStatus,
} from '../domain/messages.ts';
import type { Deps } from '../ports/deps.ts';
import { stableUuid } from '../ids.ts';
import type { DeviceRecord, DeviceRegistration } from '../ports/device-store.ts';
import type { MessageKey } from '../ports/message-store.ts';
import type { MetricName } from '../ports/metrics.ts';
import { compactUtc } from '../time.ts';

/** The ports this use case uses. */
export type MessageLifecycleDeps = Pick<Deps, 'clock' | 'messages' | 'metrics' | 'notifier' | 'publisher'>;

type HeaderSource = Pick<DeviceRecord, 'project' | 'deviceId' | 'nodeId' | 'productId'>;

/**
 * A `device.message.status` notification (CONTRACT.md §3, IoTDA §5.2). Its request_id is derived from the
 * message and status, so a re-sent notification (after a crash between write and send) is a recognisable copy.
 */
export const notifyMessageStatus = (
  deps: MessageLifecycleDeps,
  device: HeaderSource,
  m: Pick<MessageRecord, 'messageId' | 'name' | 'topic'>,
  status: MessageStatus,
  at: number,
  errorInfo?: ErrorInfo,
) =>
  deps.notifier.send(
    envelope({
      resource: 'device.message.status',
      event: 'update',
      at,
      requestId: stableUuid('device.message.status', device.deviceId, m.messageId, status),
      header: deviceHeader(device),
      body: {
        message_id: m.messageId,
        name: m.name,
        topic: m.topic,
        status,
        timestamp: compactUtc(at),
        ...(errorInfo ? { error_info: errorInfo } : {}),
      },
    }),
  );

const FINISHED_METRIC = {
  DELIVERED: 'MessagesDelivered',
  FAILED: 'MessagesFailed',
  TIMEOUT: 'MessagesTimedOut',
} as const satisfies Record<Exclude<MessageStatus, 'PENDING'>, MetricName>;

/** A message reached its final status (counted once: by the write that applied, or the store that made it so). */
export const countFinished = (deps: Pick<Deps, 'metrics'>, status: MessageStatus) => {
  if (status !== 'PENDING') deps.metrics.count(FINISHED_METRIC[status]);
};

/**
 * Ends a PENDING message with one conditional write, then notifies. When the write loses because the
 * message already has that end status, the notification is sent again: the writer before may have died
 * before sending it, and the copy carries the same request_id. Returns whether this write ended it, and the
 * message as it now stands (computed when the write won; read when it lost; undefined if it is gone).
 */
export const finishMessage = async (
  deps: MessageLifecycleDeps,
  device: HeaderSource,
  m: MessageRecord,
  to: Exclude<MessageStatus, 'PENDING'>,
  errorInfo?: ErrorInfo,
): Promise<{ ended: boolean; now: MessageRecord | undefined }> => {
  const key: MessageKey = { deviceId: m.deviceId, generation: m.generation, messageId: m.messageId };
  const at = deps.clock.now();
  if (await deps.messages.finish(key, to, at, errorInfo)) {
    countFinished(deps, to);
    await notifyMessageStatus(deps, device, m, to, at, errorInfo);
    return { ended: true, now: { ...m, status: to, finishedAt: at, ...(errorInfo ? { errorInfo } : {}) } };
  }
  const now = await deps.messages.get(key);
  if (now?.status === to) await notifyMessageStatus(deps, device, m, to, now.finishedAt ?? at, now.errorInfo);
  return { ended: false, now };
};

/**
 * Publishes a PENDING message (QoS 1) and then marks it DELIVERED: never DELIVERED without the publish.
 * Returns the message as it now stands.
 */
export const publishMessage = async (
  deps: MessageLifecycleDeps,
  device: HeaderSource,
  m: MessageRecord,
): Promise<MessageRecord | undefined> => {
  await deps.publisher.publish(m.topic, messagePayload(m), 1);
  return (await finishMessage(deps, device, m, 'DELIVERED')).now;
};

/**
 * Publishes a message that has been waiting; one whose deadline has passed is ended TIMEOUT instead and never
 * sent. Returns the message as it now stands.
 */
export const deliverMessage = async (
  deps: MessageLifecycleDeps,
  device: HeaderSource,
  m: MessageRecord,
): Promise<MessageRecord | undefined> => {
  if (m.deadline <= deps.clock.now()) return (await finishMessage(deps, device, m, 'TIMEOUT')).now;
  return publishMessage(deps, device, m);
};

/** Sends a device's PENDING messages, oldest first, once it can receive them (DESIGN.md "Reconnect"). */
export const flushPendingMessages = async (deps: MessageLifecycleDeps, device: DeviceRecord): Promise<number> => {
  const pending = await deps.messages.pendingOf(device);
  for (const m of pending) await deliverMessage(deps, device, m);
  return pending.length;
};

/** Keeps the newest 20; one pushed out while still PENDING ends FAILED first, and that is notified. */
export const trimHistory = async (
  deps: MessageLifecycleDeps,
  device: HeaderSource & DeviceRegistration,
): Promise<void> => {
  for (const old of await deps.messages.beyond(device, HISTORY_SIZE)) {
    if (old.status === 'PENDING') await finishMessage(deps, device, old, 'FAILED', MESSAGE_ERRORS.pushedOut);
    await deps.messages.remove(old);
  }
};
