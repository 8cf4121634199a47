import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../local/broker.ts';
import { iotPermissions } from '../../local/iot-policy.ts';
import { DEFAULT_REGION, LOCAL_ACCOUNT } from '../../shared/aws-names.ts';

/**
 * The local broker does what the policy its sign-in returns says, and nothing of its own: here a policy
 * narrower than the device authorizer's, so a broker still applying "the device's own topics" would fail.
 */
const ARN = `arn:aws:iot:${DEFAULT_REGION}:${LOCAL_ACCOUNT}`;
const CLIENT = 'd1_0_0_2025041401';
const policy = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${CLIENT}` },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/oc/devices/d1/sys/messages/up` },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/oc/devices/d1/user/*` },
    { Effect: 'Allow', Action: 'iot:Receive', Resource: `${ARN}:topic/oc/devices/d1/user/open` },
  ],
};
const allows = iotPermissions([JSON.stringify(policy)]);

let broker: Awaited<ReturnType<typeof startBroker>>;
const published: string[] = [];
beforeAll(async () => {
  broker = await startBroker({
    host: '127.0.0.1',
    port: 0,
    root: 'oc',
    signIn: async ({ password }) =>
      password?.toString() === 'right' ? (action, resource) => allows(action, `${ARN}:${resource}`) : undefined,
    onError: (e) => {
      throw e;
    },
  });
  broker.broker.on('publish', (packet, client) => client && published.push(packet.topic));
});
afterAll(() => broker.stop());

const connect = (clientId = CLIENT, password = 'right') =>
  mqtt.connectAsync(broker.url, { clientId, username: 'd1', password, keepalive: 60, reconnectPeriod: 0 });

const connackOf = async (clientId: string, password: string) => {
  try {
    await (await connect(clientId, password)).endAsync(true);
    return 0;
  } catch (e) {
    return (e as { code?: number }).code;
  }
};

const brokerPublish = (topic: string) =>
  new Promise<void>((resolve) =>
    broker.broker.publish(
      { cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false },
      () => resolve(),
    ),
  );

describe('local broker enforcing the sign-in policy', () => {
  it('refuses a sign-in the authorizer refused with IoTDA codes, and a connect the policy does not allow with 5', async () => {
    expect(await connackOf(CLIENT, 'wrong')).toBe(4);
    expect(await connackOf('not-huawei-shaped', 'wrong')).toBe(2);
    expect(await connackOf('d1_0_0_2025041402', 'right')).toBe(5);
  });

  it('subscribes only to the filters the policy grants', async () => {
    const device = await connect();
    const granted = await device
      .subscribeAsync(['oc/devices/d1/user/#', 'oc/devices/d1/sys/#', '#'], { qos: 1 })
      .catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted);
    expect(granted).toEqual([1, 128, 128]);
    await device.endAsync();
  });

  it('delivers only the topics the policy lets it receive', async () => {
    const device: MqttClient = await connect();
    await device.subscribeAsync('oc/devices/d1/user/#', { qos: 1 });
    const got: string[] = [];
    const marker = new Promise<void>((resolve) =>
      device.on('message', (topic) => (topic === 'oc/devices/d1/user/open' ? resolve() : got.push(topic))),
    );
    // The refused one is published first: had it been forwarded, it would arrive before the allowed one.
    await brokerPublish('oc/devices/d1/user/closed');
    await brokerPublish('oc/devices/d1/user/open');
    await marker;
    expect(got).toEqual([]);
    await device.endAsync();
  });

  it('passes a publish the policy allows and closes the connection on one it does not, even on the device own topics', async () => {
    const device = await connect();
    await device.publishAsync('oc/devices/d1/sys/messages/up', '{}', { qos: 1 });
    expect(published).toContain('oc/devices/d1/sys/messages/up');
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('oc/devices/d1/sys/properties/report', '{}', { qos: 0 });
    await closed;
    expect(published).not.toContain('oc/devices/d1/sys/properties/report');
  });
});
