import { describe, expect, it } from 'vitest';
import {
  devicePassword,
  deviceIdOfClient,
  keepaliveAllowed,
  refusalCode,
  parseClientId,
  signTimestamp,
  verifyDeviceConnect,
  type ConnectAttempt,
} from '../../shared/domain/device-auth.ts';

const NOW = Date.UTC(2025, 3, 14, 1, 30); // 2025-04-14 01:30 UTC, hour stamp 2025041401
const secrets: Record<string, string> = { dev_1: '12345678', 'p-1_node_2': 'abcdefgh' };
const secretOf = async (id: string) => secrets[id];

const attempt = (overrides: Partial<ConnectAttempt> = {}): ConnectAttempt => ({
  clientId: 'dev_1_0_1_2025041401',
  username: 'dev_1',
  password: devicePassword('12345678', '2025041401'),
  ...overrides,
});

describe('Huawei device password', () => {
  it('matches the published test vector', () => {
    expect(devicePassword('12345678', '2025041401')).toBe(
      'c75150e6cb841417396819e4d2ee4358a416344a03a083e3a8567074ddec820a',
    );
  });

  it('stamps the UTC hour as YYYYMMDDHH', () => {
    expect(signTimestamp(NOW)).toBe('2025041401');
  });
});

describe('client id', () => {
  it('parses device ids that contain underscores', () => {
    expect(parseClientId('p-1_node_2_0_0_2025041401')).toEqual({
      deviceId: 'p-1_node_2',
      signType: 0,
      timestamp: '2025041401',
    });
    expect(deviceIdOfClient('p-1_node_2_0_1_2025041401')).toBe('p-1_node_2');
  });

  it('rejects malformed ids and the SM3 sign type', () => {
    expect(parseClientId('dev_1')).toBe('malformed');
    expect(parseClientId('dev_1_0_1_20250414')).toBe('malformed');
    expect(parseClientId('dev/1_0_1_2025041401')).toBe('malformed');
    expect(parseClientId('dev_1_0_2_2025041401')).toBe('unsupported-sign-type');
    expect(deviceIdOfClient('$aws-console')).toBeUndefined();
  });
});

describe('verifyDeviceConnect', () => {
  it('accepts the right password', async () => {
    expect(await verifyDeviceConnect(attempt(), secretOf, NOW)).toEqual({ ok: true, deviceId: 'dev_1' });
  });

  it('refuses a wrong password, an unknown device or a username that is not the device id with code 4', async () => {
    const wrong = await verifyDeviceConnect(
      attempt({ password: devicePassword('87654321', '2025041401') }),
      secretOf,
      NOW,
    );
    const unknown = await verifyDeviceConnect(
      attempt({ clientId: 'ghost_0_1_2025041401', username: 'ghost' }),
      secretOf,
      NOW,
    );
    const otherUser = await verifyDeviceConnect(attempt({ username: 'p-1_node_2' }), secretOf, NOW);
    for (const v of [wrong, unknown, otherUser]) expect(v).toMatchObject({ ok: false, code: 4 });
  });

  it('refuses a missing or non-hex password with code 4', async () => {
    expect(await verifyDeviceConnect(attempt({ password: undefined }), secretOf, NOW)).toMatchObject({
      ok: false,
      code: 4,
    });
    expect(await verifyDeviceConnect(attempt({ password: 'z'.repeat(64) }), secretOf, NOW)).toMatchObject({
      ok: false,
      code: 4,
    });
  });

  it('refuses a malformed client id with code 2', async () => {
    expect(await verifyDeviceConnect(attempt({ clientId: 'dev_1' }), secretOf, NOW)).toMatchObject({
      ok: false,
      code: 2,
    });
  });

  it('allows a keepalive of 30..1200 s, or none given', () => {
    expect([undefined, 30, 120, 1200].map(keepaliveAllowed)).toEqual([true, true, true, true]);
    expect([0, 29, 1201].map(keepaliveAllowed)).toEqual([false, false, false]);
  });

  it('answers a refused sign-in with 2 for a client id not of Huawei shape, else 4', () => {
    expect(refusalCode('dev_1')).toBe(2);
    expect(refusalCode('dev_1_0_2_2025041401')).toBe(2);
    expect(refusalCode('dev_1_0_1_2025041401')).toBe(4);
  });

  it('checks the timestamp within one hour either side for sign type 1 only', async () => {
    const at = (ts: string, sign: 0 | 1) =>
      verifyDeviceConnect(
        attempt({ clientId: `dev_1_0_${sign}_${ts}`, password: devicePassword('12345678', ts) }),
        secretOf,
        NOW,
      );
    expect((await at('2025041400', 1)).ok).toBe(true);
    expect((await at('2025041402', 1)).ok).toBe(true);
    expect(await at('2025041323', 1)).toMatchObject({ ok: false, code: 4 });
    expect(await at('2025041403', 1)).toMatchObject({ ok: false, code: 4 });
    expect((await at('2020010100', 0)).ok).toBe(true);
  });
});
