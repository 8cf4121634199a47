/** IoTDA §1: body timestamps are compact UTC, yyyyMMdd'T'HHmmss'Z'. */
export const compactUtc = (ms: number): string =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** IoTDA §5.1: push envelopes also carry yyyy-MM-dd'T'HH:mm:ss.SSS'Z'. */
export const isoUtcMs = (ms: number): string => new Date(ms).toISOString();

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
