import type { SyncKind } from '../domain/sync-requests.ts';

export interface PendingRequest {
  requestId: string;
  deviceId: string;
  kind: SyncKind;
  createdAt: number;
}

/** Synchronous requests waiting for their device's answer, keyed by request id. */
export interface RequestStore {
  open(request: PendingRequest): Promise<void>;
  /**
   * Records the answer if this device was sent this request and it has no answer yet; false otherwise,
   * so no device can answer another device's request, and a repeated answer changes nothing.
   */
  respond(requestId: string, deviceId: string, kind: SyncKind, responseText: string): Promise<boolean>;
  /** The answer's text, or undefined while there is none. */
  responseOf(requestId: string): Promise<string | undefined>;
}
