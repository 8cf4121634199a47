import { describe, expect, it } from 'vitest';
import { apiClient, connectDevice, huaweiOptions, registerDevice, startTestRuntime, waitForStatus } from '../support/runtime.ts';

// A short sync wait: the refused answers end in the device-timeout outcome.
const runtime = await startTestRuntime({ commandTimeoutMs: 1_500 });
const api = apiClient(runtime);

const command = (deviceId: string) => api.call('POST', `${api.base}/devices/${deviceId}/commands`, { paras: {} });

/** A device that answers every command with `answer`. */
const answeringDevice = async (answer: () => string) => {
  const { deviceId, secret } = await registerDevice(runtime);
  const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
  client.on('message', (topic) => {
    if (topic.includes('/sys/commands/request_id='))
      client.publish(topic.replace('/sys/commands/', '/sys/commands/response/'), answer(), { qos: 1 });
  });
  await waitForStatus(runtime, deviceId, 'ONLINE');
  return { deviceId, client };
};

describe('device packet size', () => {
  it.each([
    ['128 KB and 1 byte', 128 * 1024 + 1],
    ['200 KB', 200 * 1024],
    ['1 MB', 1024 * 1024],
  ])('refuses a %s answer and closes the connection, as IoT Core does; the caller gets IOTDA.014111', async (_, size) => {
    const { deviceId, client } = await answeringDevice(() => 'x'.repeat(size));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const res = await command(deviceId);
    await closed;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response: null, error_code: 'IOTDA.014111' });
    await waitForStatus(runtime, deviceId, 'OFFLINE');

    // The runtime keeps serving: a device answering within the limit gets its answer through.
    const healthy = await answeringDevice(() => 'y'.repeat(128 * 1024));
    const ok = await command(healthy.deviceId);
    expect(ok.status).toBe(200);
    expect(ok.body.response).toHaveLength(128 * 1024);
  });
});
