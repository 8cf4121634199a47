import type { SyncKind } from '../domain/sync-requests.ts';

/** Whose answer: the request id the API sent, the device it sent it to, and what kind of request it was. */
export interface ResponseKey {
  requestId: string;
  deviceId: string;
  kind: SyncKind;
}

/**
 * Devices' answers to synchronous requests. An answer is stored under the request id, the answering device
 * and the kind, and the waiting API call reads the key it sent: no device can answer another device's
 * request, so the request needs no record of its own before it is sent (docs/decisions.md, "Fewer AWS calls").
 */
export interface ResponseStore {
  /** Records the answer; false when this device already answered this request, so a repeat changes nothing. */
  respond(key: ResponseKey, responseText: string): Promise<boolean>;
  /** The answer's text, or undefined while there is none. */
  responseOf(key: ResponseKey): Promise<string | undefined>;
}
