import { z } from 'zod';
import {
  DEFAULT_TTL_MINUTES,
  MESSAGE_ERRORS,
  effectiveStatus,
  isBase64,
  messagePayload,
  resolveMessageTopic,
  type MessageRecord,
} from '../domain/messages.ts';
import type { Deps } from '../deps.ts';
import { ApiError, ConditionFailedError, errors } from '../errors.ts';
import { newUuid } from '../ids.ts';
import { MAX_PAYLOAD_BYTES } from '../payload-limits.ts';
import { compactUtc } from '../time.ts';
import { idString, parseInput } from '../validation.ts';
import { deliverMessage, notifyMessageStatus, trimHistory } from './message-lifecycle.ts';
import { findDevice } from './show-device.ts';

// A custom topic level: no wildcards, no empty levels.
const TOPIC_SUFFIX = /^[^#+/]+(\/[^#+/]+)*$/;

// IoTDA §2.4 DeviceMessageRequest.
const MessageBody = z
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
        response_topic: z.string().max(128).regex(/^[A-Za-z0-9_\-?=$#+/]*$/).optional(),
        user_properties: z.array(z.object({ prop_key: idString(128), prop_value: z.string().max(128) })).max(20).optional(),
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

export const messageResult = (m: MessageRecord, now: number) => {
  const { status, finishedAt } = effectiveStatus(m, now);
  return { status, created_time: compactUtc(m.createdAt), ...(finishedAt !== undefined ? { finished_time: compactUtc(finishedAt) } : {}) };
};

/**
 * IoTDA CreateMessage: stored PENDING (and notified); published at once and DELIVERED when the device is
 * online and subscribed; kept for a later reconnect otherwise, or FAILED at once when `ttl` is 0.
 */
export const createMessage = async (deps: Deps, project: string, rawDeviceId: string | undefined, body: unknown) => {
  const input = parseInput(MessageBody, body);
  const device = await findDevice(deps, project, rawDeviceId);
  const topic = resolveMessageTopic(deps.config.topicRoot, device.deviceId, input);
  if (topic === 'outside-device') throw errors.invalid('topic_full_name', "must be one of the device's own topics");
  const now = deps.clock.now();
  const record: MessageRecord = {
    project,
    deviceId: device.deviceId,
    messageId: input.message_id ?? newUuid(),
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
  };
  if (messagePayload(record).length > MAX_PAYLOAD_BYTES) throw errors.payloadTooLarge('256 KB');

  const canReceive = device.presence.status === 'ONLINE' && device.presence.subscribed === true;
  // IoTDA §2.4: ttl 0 means "do not cache": an offline device fails it at once.
  const failNow = !canReceive && input.ttl === 0;
  const stored: MessageRecord = failNow ? { ...record, status: 'FAILED', finishedAt: now, errorInfo: MESSAGE_ERRORS.offline } : record;
  try {
    await deps.messages.create(stored);
  } catch (e) {
    if (e instanceof ConditionFailedError)
      throw new ApiError(409, 'DOWNLINK.409001', `The device already has a message with id ${record.messageId}.`, { cause: e });
    throw e;
  }
  await notifyMessageStatus(deps, device, stored, stored.status, now, stored.errorInfo);
  if (canReceive) await deliverMessage(deps, device, stored).catch((e: unknown) => {
    // Stays PENDING: the device gets it on its next subscription, or it times out.
    deps.logger.warn('publish failed; message stays pending', { messageId: stored.messageId, error: e as Error });
  });
  await trimHistory(deps, device);
  const current = (await deps.messages.get({ deviceId: device.deviceId, messageId: stored.messageId })) ?? stored;
  return { message_id: stored.messageId, result: messageResult(current, deps.clock.now()) };
};

