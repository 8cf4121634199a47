import { errors } from './errors.ts';

/** CONTRACT.md §1: message and property payloads up to 256 KB; commands get the same ceiling. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export const rejectOversized = (payload: unknown): void => {
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) throw errors.payloadTooLarge('256 KB');
};
