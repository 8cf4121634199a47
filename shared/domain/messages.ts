import type { ErrorBody } from '../errors.ts';
import { isDeviceOwnTopic, deviceTopicPrefix, type TopicRoot } from './topics.ts';

/**
 * Device messages (CONTRACT.md §1, IoTDA §2.4–2.6): stored PENDING, published when the device can receive,
 * and ended DELIVERED, FAILED or TIMEOUT. The allowed moves and the history rule live here.
 */
export type MessageStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'TIMEOUT';

/** IoTDA keeps the newest 20 messages of a device. */
export const HISTORY_SIZE = 20;

export const DEFAULT_TTL_MINUTES = 1440;

export interface ErrorInfo {
  error_code: string;
  error_msg: string;
}

export interface MessageRecord {
  project: string;
  deviceId: string;
  /** The device registration it belongs to (DeviceRecord.generation). */
  generation: string;
  messageId: string;
  name?: string;
  message: unknown;
  encoding: 'none' | 'base64';
  payloadFormat: 'standard' | 'raw';
  /** The topic it is published on, resolved at creation. */
  topic: string;
  properties?: Record<string, unknown>;
  ttlMinutes: number;
  status: MessageStatus;
  createdAt: number;
  /** When a PENDING message stops waiting (created + ttl minutes). */
  deadline: number;
  finishedAt?: number;
  errorInfo?: ErrorInfo;
  /** The batch task that sent it (createMessages): a re-run of that sub-task finds it instead of sending another. */
  batchTaskId?: string;
}

export const MESSAGE_ERRORS = {
  offline: { error_code: 'IOTDA.014016', error_msg: 'The device is not online and the message has no ttl to wait.' },
  pushedOut: {
    error_code: 'DOWNLINK.410001',
    error_msg: 'Pushed out of the 20-message history before it was delivered.',
  },
} as const satisfies Record<string, ErrorBody>;

/** FAILED at creation because the device was offline and the ttl was 0: never sent, and never will be. */
export const refusedOffline = (m: Pick<MessageRecord, 'status' | 'errorInfo'>): boolean =>
  m.status === 'FAILED' && m.errorInfo?.error_code === MESSAGE_ERRORS.offline.error_code;

/** Only PENDING moves, and only to an end state: every transition is a conditional write on PENDING. */
export const canMove = (from: MessageStatus, to: MessageStatus): boolean => from === 'PENDING' && to !== 'PENDING';

/** A PENDING message past its deadline reads as TIMEOUT even before the sweeper has written it. */
export const effectiveStatus = (m: MessageRecord, now: number): { status: MessageStatus; finishedAt?: number } =>
  m.status === 'PENDING' && m.deadline <= now
    ? { status: 'TIMEOUT', finishedAt: m.deadline }
    : { status: m.status, ...(m.finishedAt !== undefined ? { finishedAt: m.finishedAt } : {}) };

export type TopicChoice = { topic?: string; topic_full_name?: string };

/**
 * The topic a message goes to (IoTDA §2.4): the system down topic, a `user/` suffix, or a full name, which
 * must stay under the device's own topics (the ACL applies to the platform's publishes too).
 */
export const resolveMessageTopic = (
  root: TopicRoot,
  deviceId: string,
  choice: TopicChoice,
): string | 'outside-device' => {
  if (choice.topic !== undefined) return `${deviceTopicPrefix(root, deviceId)}user/${choice.topic}`;
  if (choice.topic_full_name !== undefined)
    return isDeviceOwnTopic(root, deviceId, choice.topic_full_name) && !/[+#]/.test(choice.topic_full_name)
      ? choice.topic_full_name
      : 'outside-device';
  return `${deviceTopicPrefix(root, deviceId)}sys/messages/down`;
};

/** The bytes on the wire: `standard` wraps as {name, id, content}; `raw` and base64 send the message as it is. */
export const messagePayload = (
  m: Pick<MessageRecord, 'messageId' | 'name' | 'message' | 'encoding' | 'payloadFormat'>,
): Buffer => {
  if (m.encoding === 'base64') return Buffer.from(m.message as string, 'base64');
  if (m.payloadFormat === 'raw')
    return Buffer.from(typeof m.message === 'string' ? m.message : JSON.stringify(m.message));
  return Buffer.from(JSON.stringify({ name: m.name, id: m.messageId, content: m.message }));
};

/** Strict base64 (RFC 4648 alphabet, padded): Buffer.from would quietly skip anything else. */
export const isBase64 = (text: string): boolean =>
  text.length % 4 === 0 &&
  /^[A-Za-z0-9+/]*={0,2}$/.test(text) &&
  Buffer.from(text, 'base64').toString('base64') === text;
