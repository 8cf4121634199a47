/** IoTDA §1: body timestamps are compact UTC, yyyyMMdd'T'HHmmss'Z'. */
export const compactUtc = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** IoTDA §5.1: push envelopes also carry yyyy-MM-dd'T'HH:mm:ss.SSS'Z'. */
export const isoUtcMs = (ms: number): string => new Date(ms).toISOString();

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A compact UTC timestamp (yyyyMMdd'T'HHmmss'Z') as epoch ms; NaN when it names no real time. */
export const parseCompactUtc = (text: string): number => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return Number.NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  // Date.UTC rolls 20260231 over into March: only a timestamp that reads back the same is real.
  return compactUtc(ms) === text ? ms : Number.NaN;
};
