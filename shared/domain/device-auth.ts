import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Huawei's MQTT password scheme (CONTRACT.md §2, IoTDA §4.1), the one implementation used by the
 * local broker and by the IoT Core custom authorizer.
 */

export interface ParsedClientId {
  deviceId: string;
  signType: 0 | 1;
  timestamp: string;
}

// {device_id}_0_{signType}_{YYYYMMDDHH}; device ids may themselves contain underscores, so anchor on the tail.
const CLIENT_ID = /^([A-Za-z0-9_-]{1,128})_0_([0-9])_(\d{10})$/;

export type ClientIdProblem = 'malformed' | 'unsupported-sign-type';

export const parseClientId = (clientId: string): ParsedClientId | ClientIdProblem => {
  const m = CLIENT_ID.exec(clientId);
  if (!m) return 'malformed';
  const [, deviceId, sign, timestamp] = m as unknown as [string, string, string, string];
  // Sign type 2 (HMAC-SM3) is a Java-SDK extension we do not offer; 0 and 1 are HMAC-SHA256.
  if (sign !== '0' && sign !== '1') return 'unsupported-sign-type';
  return { deviceId, signType: sign === '0' ? 0 : 1, timestamp };
};

/** Lowercase hex HMAC-SHA256, keyed by the YYYYMMDDHH timestamp, over the device secret. */
export const devicePassword = (secret: string, timestamp: string): string =>
  createHmac('sha256', timestamp).update(secret).digest('hex');

/** UTC YYYYMMDDHH, the timestamp a device puts in its client id. */
export const signTimestamp = (ms: number): string => new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '');

const timestampMs = (ts: string): number =>
  Date.UTC(Number(ts.slice(0, 4)), Number(ts.slice(4, 6)) - 1, Number(ts.slice(6, 8)), Number(ts.slice(8, 10)));

const HOUR_MS = 3_600_000;

/** MQTT 3.1.1 CONNACK return codes used for refusals. */
export const ConnackCode = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badCredentials: 4,
  notAuthorized: 5,
} as const;

export type ConnectVerdict =
  | { ok: true; deviceId: string }
  | { ok: false; code: (typeof ConnackCode)[keyof typeof ConnackCode]; reason: string };

export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
}

/**
 * Decide a device CONNECT. `secretOf` returns the device's secret, or undefined for an unknown device.
 * The rules, in the order IoTDA applies them: client id shape, timestamp window (sign type 1 only), then
 * the password. The keepalive is the broker's to check (keepaliveAllowed): an authorizer never sees it.
 */
export const verifyDeviceConnect = async (
  attempt: ConnectAttempt,
  secretOf: (deviceId: string) => Promise<string | undefined>,
  nowMs: number,
): Promise<ConnectVerdict> => {
  const parsed = parseClientId(attempt.clientId);
  if (parsed === 'malformed') return { ok: false, code: ConnackCode.identifierRejected, reason: 'client id malformed' };
  if (parsed === 'unsupported-sign-type')
    return { ok: false, code: ConnackCode.identifierRejected, reason: 'sign type not supported' };
  if (attempt.username !== parsed.deviceId)
    return { ok: false, code: ConnackCode.badCredentials, reason: 'username is not the device id' };
  // The timestamp has hour precision: "±1 hour" means its hour is the current UTC hour or one either side.
  if (parsed.signType === 1 && Math.abs(Math.floor(nowMs / HOUR_MS) - timestampMs(parsed.timestamp) / HOUR_MS) > 1)
    return { ok: false, code: ConnackCode.badCredentials, reason: 'timestamp outside the allowed window' };
  if (!attempt.password || !/^[0-9a-f]{64}$/.test(attempt.password))
    return { ok: false, code: ConnackCode.badCredentials, reason: 'password malformed' };
  const secret = await secretOf(parsed.deviceId);
  if (secret === undefined) return { ok: false, code: ConnackCode.badCredentials, reason: 'unknown device' };
  const expected = Buffer.from(devicePassword(secret, parsed.timestamp), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(attempt.password, 'hex')))
    return { ok: false, code: ConnackCode.badCredentials, reason: 'wrong password' };
  return { ok: true, deviceId: parsed.deviceId };
};

/** IoTDA §4.1: a keepalive of 30..1200 s, else CONNACK 2. */
export const keepaliveAllowed = (seconds: number | undefined) =>
  seconds === undefined || (seconds >= 30 && seconds <= 1200);

/**
 * The CONNACK code of a refused sign-in as IoTDA answers it: 2 for a client id that is not Huawei's shape,
 * 4 for anything about the credentials.
 */
export const refusalCode = (clientId: string) =>
  typeof parseClientId(clientId) === 'string' ? ConnackCode.identifierRejected : ConnackCode.badCredentials;

/** Device id from a Huawei client id, for lifecycle events; undefined when the id is not ours. */
export const deviceIdOfClient = (clientId: string): string | undefined => {
  const parsed = parseClientId(clientId);
  return typeof parsed === 'string' ? undefined : parsed.deviceId;
};
