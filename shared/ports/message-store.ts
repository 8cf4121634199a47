import type { ErrorInfo, MessageRecord, MessageStatus } from '../domain/messages.ts';

export interface MessageKey {
  deviceId: string;
  messageId: string;
}

export interface MessageStore {
  /** Throws ConditionFailedError when the device already has a message with this id. */
  create(message: MessageRecord): Promise<void>;
  get(key: MessageKey): Promise<MessageRecord | undefined>;
  /** The device's messages, newest first. */
  newest(deviceId: string, limit: number): Promise<MessageRecord[]>;
  /** The device's messages after the newest `keep`, oldest last: those the history pushes out. */
  beyond(deviceId: string, keep: number): Promise<MessageRecord[]>;
  /** The device's PENDING messages, oldest first. */
  pendingOf(deviceId: string): Promise<MessageRecord[]>;
  /** PENDING messages of any device whose deadline is at or before `now`. */
  expiredPending(now: number, limit: number): Promise<MessageKey[]>;
  /**
   * Moves a message from PENDING to an end state if it is still PENDING; false when another writer
   * moved it first (or it is gone). The only way a status changes.
   */
  finish(key: MessageKey, to: Exclude<MessageStatus, 'PENDING'>, at: number, errorInfo?: ErrorInfo): Promise<boolean>;
  remove(key: MessageKey): Promise<void>;
}
