import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { build } from '../../functions/auth/device-authorizer.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { huaweiCredentials } from '../../tools/simulated-device.ts';
import { registerDevice, startTestRuntime } from '../support/runtime.ts';

const runtime = await startTestRuntime();
const HOUR = 3_600_000;
const context = { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:device-authorizer' } as Context;

/** The authorizer function as IoT Core invokes it (password base64), with the clock `shiftMs` ahead. */
const authorize = (creds: { clientId: string; username: string; password: string }, shiftMs = 0) => {
  const deps: Deps = { ...runtime.deps, clock: { now: () => Date.now() + shiftMs } };
  return build(deps)(
    { protocolData: { mqtt: { ...creds, password: Buffer.from(creds.password).toString('base64') } } },
    context,
  );
};

describe('device authorizer on IoT Core', () => {
  it('never lets IoT Core refresh a sign-type-1 connection, whose credentials a refresh 2 h later would refuse', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const creds = huaweiCredentials(deviceId, secret, 1);
    const first = await authorize(creds);
    expect(first.isAuthenticated).toBe(true);
    // IoT Core re-runs the authorizer with the connect's own credentials at refreshAfterInSeconds: 2 h later the
    // sign-type-1 timestamp is out of its ±1 h, so such a refresh would disconnect a healthy device.
    expect((await authorize(creds, 2 * HOUR)).isAuthenticated).toBe(false);
    // So the connection ends (the device reconnects, signing afresh) before any refresh is due.
    expect(first.refreshAfterInSeconds).toBeGreaterThanOrEqual(first.disconnectAfterInSeconds);
    // IoT Core's bounds: refresh 300..86,400 s, disconnect 300..86,400 s.
    expect(first.refreshAfterInSeconds).toBeLessThanOrEqual(86_400);
    expect(first.disconnectAfterInSeconds).toBeGreaterThanOrEqual(300);
  });

  it('refuses bad credentials', async () => {
    const { deviceId } = await registerDevice(runtime);
    expect((await authorize(huaweiCredentials(deviceId, 'wrong-secret', 0))).isAuthenticated).toBe(false);
  });
});

describe('device policy ARNs', () => {
  it('names the partition, region and account the authorizer function runs in', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const creds = huaweiCredentials(deviceId, secret, 0);
    const result = await build(runtime.deps)(
      { protocolData: { mqtt: { ...creds, password: Buffer.from(creds.password).toString('base64') } } },
      { invokedFunctionArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:device-authorizer' } as Context,
    );
    const resources = JSON.parse(result.policyDocuments[0]!).Statement.flatMap((s: { Resource: string }) => s.Resource);
    expect(resources).toEqual([
      `arn:aws-cn:iot:cn-north-1:123456789012:client/${creds.clientId}`,
      `arn:aws-cn:iot:cn-north-1:123456789012:topic/oc/devices/${deviceId}/*`,
      `arn:aws-cn:iot:cn-north-1:123456789012:topicfilter/oc/devices/${deviceId}/*`,
    ]);
  });
});
