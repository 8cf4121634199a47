import { describe, expect, it } from 'vitest';
import { deviceIotPolicy } from '../../shared/domain/device-policy.ts';
import { iotPermissions } from '../../local/iot-policy.ts';

const ARN = 'arn:aws:iot:us-east-1:000000000000';
const device = iotPermissions([
  JSON.stringify(
    deviceIotPolicy({
      partition: 'aws',
      region: 'us-east-1',
      account: '000000000000',
      root: 'oc',
      deviceId: 'd1',
      clientId: 'd1_0_0_2025041401',
    }),
  ),
]);

describe('IoT policy evaluation (the local broker enforcing the device authorizer policy)', () => {
  it('lets a device connect as its own client id only', () => {
    expect(device('iot:Connect', `${ARN}:client/d1_0_0_2025041401`)).toBe(true);
    expect(device('iot:Connect', `${ARN}:client/d1_0_0_2025041402`)).toBe(false);
    expect(device('iot:Connect', `arn:aws-cn:iot:us-east-1:000000000000:client/d1_0_0_2025041401`)).toBe(false);
  });

  it('lets it publish and receive under its own topics only', () => {
    for (const action of ['iot:Publish', 'iot:Receive'] as const) {
      expect(device(action, `${ARN}:topic/oc/devices/d1/sys/messages/up`)).toBe(true);
      expect(device(action, `${ARN}:topic/oc/devices/d2/sys/messages/up`)).toBe(false);
      expect(device(action, `${ARN}:topic/oc/devices/d10/sys/messages/up`)).toBe(false);
      expect(device(action, `${ARN}:topic/$aws/events/presence/connected/d1`)).toBe(false);
    }
  });

  it('treats MQTT wildcards as plain characters: its own filters yes, # or + across devices no', () => {
    expect(device('iot:Subscribe', `${ARN}:topicfilter/oc/devices/d1/sys/#`)).toBe(true);
    expect(device('iot:Subscribe', `${ARN}:topicfilter/#`)).toBe(false);
    expect(device('iot:Subscribe', `${ARN}:topicfilter/oc/devices/+/sys/#`)).toBe(false);
    expect(device('iot:Subscribe', `${ARN}:topic/oc/devices/d1/sys/#`)).toBe(false);
  });

  it('denies what no statement allows, and what any statement denies', () => {
    const policy = iotPermissions([
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:*', Resource: `${ARN}:topic/a/*` },
          { Effect: 'Deny', Action: ['IOT:PUBLISH'], Resource: `${ARN}:topic/a/secret?` },
        ],
      }),
    ]);
    expect(policy('iot:Publish', `${ARN}:topic/a/b/c`)).toBe(true);
    expect(policy('iot:Receive', `${ARN}:topic/a/secret1`)).toBe(true);
    expect(policy('iot:Publish', `${ARN}:topic/a/secret1`)).toBe(false);
    expect(policy('iot:Publish', `${ARN}:topic/a/secret12`)).toBe(true);
    expect(policy('iot:Publish', `${ARN}:topic/b`)).toBe(false);
  });
});
