import { deviceHeader, envelope, type NotificationEnvelope } from '../domain/notifications.ts';
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

/**
 * The device a message is for, as its notifications name it; `mayPush` when this call read whether the device's
 * project may push (RoutingRuleStore.mayPush), so that its notifications skip push-route when it may not.
 */
export type MessageTarget = Pick<DeviceRecord, 'project' | 'deviceId' | 'nodeId' | 'productId'> & {
  mayPush?: boolean;
};

/**
 * A `device.message.status` notification (CONTRACT.md §3, IoTDA §5.2). Its request_id is derived from the
 * message and status, so a re-sent notification (after a crash between write and send) is a recognisable copy.
 */
export const messageStatusEnvelope = (
  device: MessageTarget,
  m: Pick<MessageRecord, 'messageId' | 'name' | 'topic'>,
  status: MessageStatus,
  at: number,
  errorInfo?: ErrorInfo,
) =>
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
  });

/** Sends these notifications of the device's messages together (one turn: one batch per queue). */
export const notifyAll = async (
  deps: Pick<Deps, 'notifier'>,
  device: MessageTarget,
  envelopes: readonly NotificationEnvelope[],
): Promise<void> => {
  await Promise.all(envelopes.map((e) => deps.notifier.send(e, device.mayPush)));
};

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
  device: MessageTarget,
  m: MessageRecord,
  to: Exclude<MessageStatus, 'PENDING'>,
  errorInfo?: ErrorInfo,
): Promise<{ ended: boolean; now: MessageRecord | undefined }> => {
  const key: MessageKey = { deviceId: m.deviceId, generation: m.generation, messageId: m.messageId };
  const at = deps.clock.now();
  if (await deps.messages.finish(key, to, at, errorInfo)) {
    countFinished(deps, to);
    await notifyAll(deps, device, [messageStatusEnvelope(device, m, to, at, errorInfo)]);
    return { ended: true, now: { ...m, status: to, finishedAt: at, ...(errorInfo ? { errorInfo } : {}) } };
  }
  const now = await deps.messages.get(key);
  if (now?.status === to)
    await notifyAll(deps, device, [messageStatusEnvelope(device, m, to, now.finishedAt ?? at, now.errorInfo)]);
  return { ended: false, now };
};

/**
 * Runs `work` with a notifier that holds what it is sent, then sends `earlier` and all it held in one batch,
 * also when `work` fails: the notifications of the writes that did succeed are never dropped.
 */
const notifyingTogether = async <T>(
  deps: MessageLifecycleDeps,
  device: MessageTarget,
  earlier: readonly NotificationEnvelope[],
  work: (holding: MessageLifecycleDeps) => Promise<T>,
): Promise<T> => {
  const held = [...earlier];
  try {
    return await work({ ...deps, notifier: { send: async (e: NotificationEnvelope) => void held.push(e) } });
  } finally {
    await notifyAll(deps, device, held);
  }
};

/**
 * Publishes a PENDING message (QoS 1) and then marks it DELIVERED: never DELIVERED without the publish.
 * `earlier`: notifications to send with the DELIVERED one (sent also when the publish fails). Returns the
 * message as it now stands.
 */
export const publishMessage = (
  deps: MessageLifecycleDeps,
  device: MessageTarget,
  m: MessageRecord,
  earlier: readonly NotificationEnvelope[] = [],
): Promise<MessageRecord | undefined> =>
  notifyingTogether(deps, device, earlier, async (holding) => {
    await holding.publisher.publish(m.topic, messagePayload(m), 1);
    return (await finishMessage(holding, device, m, 'DELIVERED')).now;
  });

/**
 * Delivers messages that have been waiting, in order: each is published (QoS 1), or, when its deadline has
 * passed, left unsent to end TIMEOUT; then each is ended with its own conditional write, the writes at once,
 * and the notifications (after `earlier`) sent in one batch: never DELIVERED without the publish. A publish
 * that fails ends the ones published before it; a write that fails leaves its message PENDING. Whatever
 * failed, the notifications of the writes that succeeded (and `earlier`) are sent, then the first error is
 * thrown. Returns each message as it now stands.
 */
export const deliverMessages = (
  deps: MessageLifecycleDeps,
  device: MessageTarget,
  messages: readonly MessageRecord[],
  earlier: readonly NotificationEnvelope[] = [],
): Promise<(MessageRecord | undefined)[]> =>
  notifyingTogether(deps, device, earlier, async (holding) => {
    const ends: Array<'DELIVERED' | 'TIMEOUT'> = [];
    let failure: unknown;
    for (const m of messages) {
      const expired = m.deadline <= holding.clock.now();
      if (!expired)
        try {
          await holding.publisher.publish(m.topic, messagePayload(m), 1);
        } catch (e) {
          failure = e;
          break;
        }
      ends.push(expired ? 'TIMEOUT' : 'DELIVERED');
    }
    const ended = await Promise.allSettled(ends.map((to, i) => finishMessage(holding, device, messages[i]!, to)));
    const writeFailure = ended.find((r) => r.status === 'rejected');
    if (failure !== undefined) throw failure;
    if (writeFailure) throw writeFailure.reason;
    return ended.map((r) => (r as PromiseFulfilledResult<{ now: MessageRecord | undefined }>).value.now);
  });

// A reconnect delivers this many messages at a time: their writes at once, their notifications in one batch.
const FLUSH_GROUP = 10;

/** Sends a device's PENDING messages, oldest first, once it can receive them (DESIGN.md "Reconnect"). */
export const flushPendingMessages = async (deps: MessageLifecycleDeps, device: DeviceRecord): Promise<number> => {
  const pending = await deps.messages.pendingOf(device);
  for (let i = 0; i < pending.length; i += FLUSH_GROUP)
    await deliverMessages(deps, device, pending.slice(i, i + FLUSH_GROUP));
  return pending.length;
};

/** Keeps the newest 20; one pushed out while still PENDING ends FAILED first, and that is notified. */
export const trimHistory = async (
  deps: MessageLifecycleDeps,
  device: MessageTarget & DeviceRegistration,
): Promise<void> => {
  for (const old of await deps.messages.beyond(device, HISTORY_SIZE)) {
    if (old.status === 'PENDING') await finishMessage(deps, device, old, 'FAILED', MESSAGE_ERRORS.pushedOut);
    await deps.messages.remove(old);
  }
};
