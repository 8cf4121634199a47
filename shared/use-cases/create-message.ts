import * as z from 'zod';
import {
  DEFAULT_TTL_MINUTES,
  MESSAGE_ERRORS,
  effectiveStatus,
  isBase64,
  messagePayload,
  refusedOffline,
  resolveMessageTopic,
  type MessageRecord,
} from '../domain/messages.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { newUuid } from '../ids.ts';
import { MAX_PAYLOAD_BYTES } from '../payload-limits.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { compactUtc } from '../time.ts';
import { idString, parseInput } from '../validation.ts';
import {
  countFinished,
  deliverMessages,
  messageStatusEnvelope,
  notifyAll,
  publishMessage,
  trimHistory,
  type MessageLifecycleDeps,
  type MessageTarget,
} from './message-lifecycle.ts';
import { findDevice, type ShowDeviceDeps } from './show-device.ts';

/** The ports this use case uses. */
export type CreateMessageDeps = Pick<Deps, 'clock' | 'config' | 'devices' | 'logger' | 'messages' | 'routingRules'> &
  ShowDeviceDeps &
  MessageLifecycleDeps;

// A custom topic level: no wildcards, no empty levels.
const TOPIC_SUFFIX = /^[^#+/]+(\/[^#+/]+)*$/;

// IoTDA §2.4 DeviceMessageRequest; also a createMessages task's document (IoTDA §6.2).
export const MessageBody = z
  .object({
    message_id: idString(128).optional(),
    name: z.string().max(128).optional(),
    message: z.union([z.string(), z.record(z.string(), z.unknown())]),
    encoding: z.enum(['none', 'base64']).default('none'),
    payload_format: z.enum(['standard', 'raw']).default('standard'),
    topic: z.string().min(1).max(128).regex(TOPIC_SUFFIX, 'must be topic levels without wildcards').optional(),
    topic_full_name: z.string().min(1).max(256).optional(),
    ttl: z
      .number()
      .int()
      .min(0)
      .max(1440)
      .refine((v) => v % 5 === 0, 'must be a multiple of 5')
      .default(DEFAULT_TTL_MINUTES),
    properties: z
      .object({
        correlation_data: idString(128).optional(),
        response_topic: z
          .string()
          .max(128)
          .regex(/^[A-Za-z0-9_\-?=$#+/]*$/)
          .optional(),
        user_properties: z
          .array(z.object({ prop_key: idString(128), prop_value: z.string().max(128) }))
          .max(20)
          .optional(),
      })
      .optional(),
  })
  .refine((b) => b.topic === undefined || b.topic_full_name === undefined, {
    message: 'topic and topic_full_name cannot both be given',
    path: ['topic'],
  })
  .refine((b) => b.encoding !== 'base64' || (typeof b.message === 'string' && isBase64(b.message)), {
    message: 'must be base64 text when encoding is base64',
    path: ['message'],
  });

export type MessageInput = z.output<typeof MessageBody>;

/** Who sends a message: an API call (no origin), or one sub-task of a createMessages batch task. */
export interface MessageOrigin {
  batchTaskId?: string;
}

export const messageResult = (m: MessageRecord, now: number) => {
  const { status, finishedAt } = effectiveStatus(m, now);
  return {
    status,
    created_time: compactUtc(m.createdAt),
    ...(finishedAt !== undefined ? { finished_time: compactUtc(finishedAt) } : {}),
  };
};

/** CONTRACT.md §1: 413 over 256 KB, measured on the bytes the device would get for a message with this id. */
export const rejectOversizedMessage = (input: MessageInput, messageId: string): void => {
  const bytes = messagePayload({
    messageId,
    name: input.name,
    message: input.message,
    encoding: input.encoding,
    payloadFormat: input.payload_format,
  });
  if (bytes.length > MAX_PAYLOAD_BYTES) throw errors.payloadTooLarge('256 KB');
};

/** The record to store: PENDING, or FAILED at once when the device cannot receive and the ttl is 0. */
const buildMessage = (
  deps: CreateMessageDeps,
  device: DeviceRecord,
  input: MessageInput,
  origin: MessageOrigin,
  canReceive: boolean,
): MessageRecord => {
  const topic = resolveMessageTopic(deps.config.topicRoot, device.deviceId, input);
  if (topic === 'outside-device') throw errors.invalid('topic_full_name', "must be one of the device's own topics");
  const messageId = input.message_id ?? newUuid();
  rejectOversizedMessage(input, messageId);
  const now = deps.clock.now();
  const record: MessageRecord = {
    project: device.project,
    deviceId: device.deviceId,
    generation: device.generation,
    messageId,
    ...(input.name !== undefined ? { name: input.name } : {}),
    message: input.message,
    encoding: input.encoding,
    payloadFormat: input.payload_format,
    topic,
    ...(input.properties ? { properties: input.properties } : {}),
    ttlMinutes: input.ttl,
    status: 'PENDING',
    createdAt: now,
    deadline: now + input.ttl * deps.config.ttlMinuteMs,
    ...(origin.batchTaskId !== undefined ? { batchTaskId: origin.batchTaskId } : {}),
  };
  // IoTDA §2.4: ttl 0 means "do not cache": an offline device fails it at once.
  return !canReceive && input.ttl === 0
    ? { ...record, status: 'FAILED', finishedAt: now, errorInfo: MESSAGE_ERRORS.offline }
    : record;
};

/**
 * Stores a new message; a duplicate id is 409. Only the same batch task's own message is not a duplicate
 * (its sub-task run again after a worker died, or retried): that earlier message is returned to carry on
 * from, except one refused because the device was offline (ttl 0), which is replaced so the retry sends it.
 */
const storeMessage = async (
  deps: CreateMessageDeps,
  m: MessageRecord,
  origin: MessageOrigin,
): Promise<MessageRecord | undefined> => {
  const key = { deviceId: m.deviceId, generation: m.generation, messageId: m.messageId };
  if (await deps.messages.create(m)) return undefined;
  const earlier = await deps.messages.get(key);
  if (origin.batchTaskId === undefined || earlier === undefined || earlier.batchTaskId !== origin.batchTaskId)
    throw errors.messageExists(m.messageId);
  if (!refusedOffline(earlier)) return earlier;
  await deps.messages.remove(key);
  // Without the origin: a message that took the id in between is someone else's.
  return storeMessage(deps, m, {});
};

const canReceiveNow = (device: DeviceRecord) =>
  device.presence.status === 'ONLINE' && device.presence.subscribed === true;

/**
 * Whether the device subscribed between the read that found it unable to receive and the store of its
 * message. The subscription's flush reads the PENDING messages after recording the subscription, so a
 * message stored after that read is seen by this look again, and one stored before it by the flush: never
 * left waiting for the next reconnect. (Both may see it; the device then gets it twice, as QoS 1 allows.)
 */
const subscribedSinceRead = async (deps: CreateMessageDeps, read: DeviceRecord): Promise<boolean> => {
  const now = await deps.devices.get(read.deviceId);
  return now !== undefined && now.generation === read.generation && canReceiveNow(now);
};

/**
 * How many messages this instance has sent each device (registration) since it last trimmed the device's
 * history. A message delivered at once trims every TRIM_EVERY-th time, and the first time this instance sends
 * the device one, instead of every time (one Query fewer per message): the device's DELIVERED messages may
 * then pass 20 by a few until the next trim, which lists never show, as they show the newest 20. A message
 * that waits, PENDING, always trims, so a PENDING message pushed out still ends FAILED (docs/decisions.md,
 * "Fewer AWS calls per operation").
 */
const TRIM_EVERY = 10;
const TRIMS_KEPT = 10_000;
const sentSinceTrim = new Map<string, number>();
const trimDue = (device: DeviceRecord): boolean => {
  const key = `${device.deviceId}#${device.generation}`;
  const sent = sentSinceTrim.get(key);
  if (sent === undefined && sentSinceTrim.size >= TRIMS_KEPT) sentSinceTrim.delete(sentSinceTrim.keys().next().value!);
  const due = sent === undefined || sent + 1 >= TRIM_EVERY;
  sentSinceTrim.set(key, due ? 0 : sent + 1);
  return due;
};

/**
 * A new message under an id of our own to a device that can receive it now: published first, then stored
 * DELIVERED with one conditional put (no other call can hold a fresh id, and it is never DELIVERED before its
 * publish), its PENDING and DELIVERED notifications sent together. Undefined when the publish failed: the
 * caller then stores it PENDING and publishes once more, as for a message with an id of the caller's.
 */
const publishThenStore = async (
  deps: CreateMessageDeps,
  device: MessageTarget,
  m: MessageRecord,
): Promise<MessageRecord | undefined> => {
  try {
    await deps.publisher.publish(m.topic, messagePayload(m), 1);
  } catch (e) {
    deps.logger.warn('publish failed; storing the message to publish it again', {
      messageId: m.messageId,
      error: e as Error,
    });
    return undefined;
  }
  const delivered: MessageRecord = { ...m, status: 'DELIVERED', finishedAt: deps.clock.now() };
  // A put the SDK retried after a timeout may have landed the first time: then the stored one is this one.
  if (!(await deps.messages.create(delivered))) {
    const stored = await deps.messages.get({ deviceId: m.deviceId, generation: m.generation, messageId: m.messageId });
    if (stored?.createdAt !== m.createdAt) throw errors.messageExists(m.messageId);
  }
  countFinished(deps, 'DELIVERED');
  await notifyAll(deps, device, [
    messageStatusEnvelope(device, m, 'PENDING', m.createdAt),
    messageStatusEnvelope(device, delivered, 'DELIVERED', delivered.finishedAt!),
  ]);
  return delivered;
};

/**
 * IoTDA CreateMessage for a validated body: published at once and DELIVERED when the device is online and
 * subscribed (published, then stored, when the id is ours; stored PENDING, then published, when the caller
 * chose it); kept PENDING for a later reconnect otherwise, or FAILED at once when `ttl` is 0. Its PENDING
 * notification goes with its end status's when it ends in the call. Returns the message as it now stands.
 */
export const sendMessage = async (
  deps: CreateMessageDeps,
  project: string,
  rawDeviceId: string | undefined,
  input: MessageInput,
  origin: MessageOrigin = {},
): Promise<MessageRecord> => {
  // The project's push mark is read with the device, in the same request.
  const [device, mayPush] = await Promise.all([
    findDevice(deps, project, rawDeviceId),
    deps.routingRules.mayPush(project),
  ]);
  const target = { ...device, mayPush };
  const canReceive = canReceiveNow(device);
  const record = buildMessage(deps, device, input, origin, canReceive);
  if (canReceive && input.message_id === undefined && origin.batchTaskId === undefined) {
    const delivered = await publishThenStore(deps, target, record);
    if (delivered) {
      if (trimDue(device)) await trimHistory(deps, target);
      return delivered;
    }
  }
  const earlier = await storeMessage(deps, record, origin);
  const m = earlier ?? record;
  // What the steps below leave it as: known from their writes, so no read after them.
  let result = m;
  // An earlier run's message that has ended needs nothing more; a PENDING one gets the steps that run may have missed.
  if (earlier === undefined || earlier.status === 'PENDING') {
    // Stored FAILED at once (ttl 0, offline): its final status, as finishMessage counts the others.
    if (earlier === undefined) countFinished(deps, m.status);
    const stored = messageStatusEnvelope(target, m, m.status, m.createdAt, m.errorInfo);
    // A new message goes out now whatever its ttl (ttl 0 means "now or never"); an earlier one may have run out.
    // The stored status's notification goes with the end status's, in one batch.
    const send = () =>
      earlier === undefined
        ? publishMessage(deps, target, m, [stored])
        : deliverMessages(deps, target, [m], [stored]).then(([now]) => now);
    if (canReceive || (m.status === 'PENDING' && (await subscribedSinceRead(deps, device))))
      result = await send().then(
        (now) => now ?? m,
        (e: unknown) => {
          // Stays PENDING (its notification sent all the same): the device gets it on its next subscription,
          // or it times out.
          deps.logger.warn('publish failed; message stays pending', { messageId: m.messageId, error: e as Error });
          return m;
        },
      );
    else await notifyAll(deps, target, [stored]);
  }
  if (result.status === 'PENDING' || trimDue(device)) await trimHistory(deps, target);
  return result;
};

export const createMessage = async (
  deps: CreateMessageDeps,
  project: string,
  rawDeviceId: string | undefined,
  body: unknown,
) => {
  const m = await sendMessage(deps, project, rawDeviceId, parseInput(MessageBody, body));
  return { message_id: m.messageId, result: messageResult(m, deps.clock.now()) };
};
