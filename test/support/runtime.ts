import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, expect, onTestFinished } from 'vitest';
import { connectDevice as connectSimulated, type SimulatedDevice } from '../../tools/simulated-device.ts';
import { devicePassword, signTimestamp } from '../../shared/domain/device-auth.ts';
import { clientOptions } from '../../shared/adapters/aws/client-options.ts';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import { startRuntime, type Runtime } from '../../local/runtime.ts';
import { ephemeralSettings, type LocalSettings } from '../../local/settings.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';

/** Starts the whole local runtime in this process on free ports, stopped when the file's tests end. */
export const startTestRuntime = async (overrides: Partial<LocalSettings> = {}): Promise<Runtime> => {
  const runtime = await startRuntime(ephemeralSettings(overrides));
  afterAll(() => runtime.stop());
  return runtime;
};

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A real HTTP client for the runtime's API, with the bootstrap token unless told otherwise. */
export const apiClient = (runtime: Runtime, token: string | null = runtime.token) => {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const res = await fetch(`${runtime.httpUrl}${path}`, {
      method,
      headers: {
        ...(token ? { 'X-Auth-Token': token } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const base = `/v5/iot/${runtime.project}`;
  return {
    call,
    base,
    addDevice: (body: Record<string, unknown>) => call('POST', `${base}/devices`, body),
    showDevice: (id: string) => call('GET', `${base}/devices/${id}`),
    deleteDevice: (id: string) => call('DELETE', `${base}/devices/${id}`),
  };
};

/** A product body with no services: any command and property request goes (CONTRACT.md §5). */
export const freeFormProduct = (productId: string, serviceCapabilities: unknown[] = []) => ({
  product_id: productId,
  name: productId,
  device_type: 'Test',
  protocol_type: 'MQTT',
  service_capabilities: serviceCapabilities,
});

const madeProducts = new WeakMap<Runtime, Set<string>>();
/**
 * Creates a product in the runtime's project once (free-form by default: no services, so any command goes),
 * as AddDevice needs one.
 */
export const ensureProduct = async (
  runtime: Runtime,
  productId = 'prod',
  serviceCapabilities: unknown[] = [],
  token: string | null = runtime.token,
  project = runtime.project,
) => {
  const made = madeProducts.get(runtime) ?? new Set<string>();
  madeProducts.set(runtime, made);
  if (made.has(`${project}/${productId}`)) return;
  const res = await apiClient(runtime, token).call(
    'POST',
    `/v5/iot/${project}/products`,
    freeFormProduct(productId, serviceCapabilities),
  );
  if (res.status !== 201 && res.body?.error_code !== 'DOWNLINK.409004')
    throw new Error(`create product failed: ${res.status} ${JSON.stringify(res.body)}`);
  made.add(`${project}/${productId}`);
};

let nextNode = 0;
/** Registers a device (of product `prod`, free-form) through the API and returns its id and secret. */
export const registerDevice = async (runtime: Runtime, secret = 'secret-1234') => {
  const node = `node${process.pid}x${nextNode++}`;
  await ensureProduct(runtime);
  const res = await apiClient(runtime).addDevice({ node_id: node, product_id: 'prod', auth_info: { secret } });
  if (res.status !== 201) throw new Error(`add device failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { deviceId: res.body.device_id as string, secret };
};

/** Connection options of the Huawei scheme for a device, overridable to test refusals. */
export const huaweiOptions = (deviceId: string, secret: string, overrides: IClientOptions = {}): IClientOptions => {
  const ts = signTimestamp(Date.now());
  return {
    clientId: `${deviceId}_0_1_${ts}`,
    username: deviceId,
    password: devicePassword(secret, ts),
    keepalive: 120,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...overrides,
  };
};

/** Connects a real MQTT client; closed when the test ends. */
export const connectDevice = async (runtime: Runtime, options: IClientOptions): Promise<MqttClient> => {
  const client = await mqtt.connectAsync(runtime.mqttUrl, options);
  onTestFinished(() => void client.endAsync(true));
  return client;
};

/** The CONNACK code a refused connect gets. */
export const connackCodeOf = async (runtime: Runtime, options: IClientOptions): Promise<number | undefined> => {
  try {
    const client = await mqtt.connectAsync(runtime.mqttUrl, options);
    await client.endAsync(true);
    return 0;
  } catch (e) {
    return (e as { code?: number }).code;
  }
};

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs` (generous: a busy machine is slow). */
export const waitFor = async <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

export const waitForStatus = (runtime: Runtime, deviceId: string, status: string) =>
  waitFor(async () => {
    const res = await apiClient(runtime).showDevice(deviceId);
    return res.body?.status === status ? res.body : undefined;
  }, `${deviceId} to be ${status}`);

/** Reads (and removes) what is in the notification queue now, as an application would. */
export const drainNotifications = async (runtime: Runtime): Promise<NotificationEnvelope[]> => {
  const sqs = new SQSClient(clientOptions(DEFAULT_REGION, runtime.sqsUrl));
  const out: NotificationEnvelope[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queueUrls.notifications,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = res.Messages ?? [];
    if (!messages.length) return out;
    out.push(...messages.map((m) => JSON.parse(m.Body!) as NotificationEnvelope));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: runtime.queueUrls.notifications,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
};

/** Waits until a queue has nothing waiting or in flight: every event sent so far has been handled. */
export const waitForQueueIdle = (runtime: Runtime, queue: keyof Runtime['queueUrls']) => {
  const sqs = new SQSClient(clientOptions(DEFAULT_REGION, runtime.sqsUrl));
  return waitFor(async () => {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: runtime.queueUrls[queue],
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0' ? true : undefined;
  }, `${queue} queue to be idle`);
};

/** Puts a lifecycle event straight on the presence queue, as an IoT rule would. */
export const sendLifecycleEvent = async (runtime: Runtime, event: Record<string, unknown>) => {
  const sqs = new SQSClient(clientOptions(DEFAULT_REGION, runtime.sqsUrl));
  await sqs.send(new SendMessageCommand({ QueueUrl: runtime.queueUrls.presence, MessageBody: JSON.stringify(event) }));
};

/** An AWS lifecycle event JSON, as IoT Core publishes it on $aws/events/... */
export const lifecycleEvent = (deviceId: string, eventType: string, session: string, timestamp: number) => ({
  clientId: `${deviceId}_0_1_2026112520`,
  timestamp,
  eventType,
  sessionIdentifier: session,
  principalIdentifier: 'p',
  versionNumber: 0,
  ...(eventType === 'subscribed' ? { topics: [`oc/devices/${deviceId}/sys/#`] } : {}),
  ...(eventType === 'disconnected'
    ? { clientInitiatedDisconnect: true, disconnectReason: 'CLIENT_INITIATED_DISCONNECT' }
    : {}),
});

/** A 400 IOTDA.000006 whose message names `field`. */
export const expectInvalid = (res: ApiResponse, field: string) => {
  expect(res.status).toBe(400);
  expect(res.body.error_code).toBe('IOTDA.000006');
  expect(res.body.error_msg).toContain(field);
};

/** A simulated device connected and subscribed (its subscription handled: messages go out at once); closed when the test ends. */
export const connectReceiving = async (
  runtime: Runtime,
  deviceId: string,
  secret: string,
): Promise<SimulatedDevice> => {
  const device = await connectSimulated({
    deviceId,
    secret,
    port: Number(new URL(runtime.mqttUrl).port),
    root: runtime.topicRoot,
  });
  onTestFinished(() => device.close());
  await waitForStatus(runtime, deviceId, 'ONLINE');
  await waitForQueueIdle(runtime, 'presence');
  return device;
};

/** Collects everything a device receives from now on. */
export const inbox = (device: SimulatedDevice) => {
  const got: { topic: string; payload: string }[] = [];
  device.onMessage((m) => got.push({ topic: m.topic, payload: m.payload.toString() }));
  return got;
};
