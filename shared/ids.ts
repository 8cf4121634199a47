import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const newUuid = (): string => randomUUID();

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A UUID-shaped id derived from its inputs: a retried event yields the same id, so consumers can drop the copy. */
export const stableUuid = (...parts: string[]): string => {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
