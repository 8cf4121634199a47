import type { ErrorInfo, MessageRecord, MessageStatus } from '../domain/messages.ts';
import type { DeviceRegistration } from './device-store.ts';

/** A message of one registration of a device: a device deleted and added again never sees the old one's. */
export interface MessageKey extends DeviceRegistration {
  messageId: string;
}

export interface MessageStore {
  /** False when the registration already has a message with this id. */
  create(message: MessageRecord): Promise<boolean>;
  get(key: MessageKey): Promise<MessageRecord | undefined>;
  /** The registration's messages, newest first. */
  newest(device: DeviceRegistration, limit: number): Promise<MessageRecord[]>;
  /** The registration's messages after the newest `keep`, oldest last: those the history pushes out. */
  beyond(device: DeviceRegistration, keep: number): Promise<MessageRecord[]>;
  /** The registration's PENDING messages, oldest first. */
  pendingOf(device: DeviceRegistration): Promise<MessageRecord[]>;
  /** PENDING messages of any device whose deadline is at or before `now`. */
  expiredPending(now: number, limit: number): Promise<MessageKey[]>;
  /**
   * Moves a message from PENDING to an end state if it is still PENDING; false when another writer
   * moved it first (or it is gone). The only way a status changes.
   */
  finish(key: MessageKey, to: Exclude<MessageStatus, 'PENDING'>, at: number, errorInfo?: ErrorInfo): Promise<boolean>;
  remove(key: MessageKey): Promise<void>;
  /** Removes every message of the registration (a deleted device's); repeating it is harmless. */
  removeAll(device: DeviceRegistration): Promise<number>;
}
