import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const newUuid = (): string => randomUUID();

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A UUID-shaped id derived from its inputs: a retried event yields the same id, so consumers can drop the copy. */
export const stableUuid = (...parts: string[]): string => {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * List ids (batch tasks, devices, products): 24 lowercase hex that sort by creation, like IoTDA's
 * ObjectId-shaped ids (IoTDA §1: `marker` is the last id of a page and newer records have larger ids). 12 hex
 * of milliseconds (seconds would leave records made in one second unordered), then a per-process counter,
 * then randomness so two processes never clash.
 */
let counter = randomBytes(3).readUIntBE(0, 3) & 0x7fffff;
export const newListId = (nowMs: number): string => {
  counter = (counter + 1) & 0xffffff;
  return nowMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(6, '0') + randomBytes(3).toString('hex');
};
