import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { clientOptions } from '../shared/adapters/aws/client-options.ts';
import type { NotificationEnvelope } from '../shared/domain/notifications.ts';
import { startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { connectDevice, type SimulatedDevice } from './simulated-device.ts';
import { DEFAULT_REGION } from '../shared/aws-names.ts';

const USAGE = `Checks a running Downlink end to end, printing each step with its time; exits 1 on the first failure,
after deleting what it created.

  npm run smoke                      the local runtime, started in this process on free ports
  npm run smoke -- --api URL --token T --mqtt-host HOST [--queue-url URL] [options]
                                     a deployed stack

  --api URL          the API of one project: {API URL output}v5/iot/{project}
  --token T          an API token of that project (npm run tokens)
  --mqtt-host HOST   the domain name of the stack's domain configuration (DeviceDomainConfigurationName);
                     devices connect with TLS on --mqtt-port (default 8883), the host name sent as SNI
  --ca FILE          PEM of the CA to trust instead of Node's bundled roots (which hold Amazon's)
  --queue-url URL    the NotificationQueueUrl output: the notifications are read back (with the AWS
                     credentials of the environment); without it that step is skipped. Envelopes of other
                     devices are left in the queue, visible again at once.
  --region R         the queue's region (default $AWS_REGION or us-east-1)`;

export interface SmokeTarget {
  /** Base of one project's API: `.../v5/iot/{project}`. */
  api: string;
  token: string;
  mqtt: { host: string; port: number; tls?: { ca?: string | Buffer } };
  /** The notification queue; `endpoint` for an emulator, none for AWS. */
  queue?: { url: string; region: string; endpoint?: string };
  /** How long to wait for each asynchronous outcome. */
  timeoutMs?: number;
}

const FINAL = new Set(['Success', 'Fail', 'PartialSuccess', 'Stopped']);

class SmokeFailure extends Error {}

const check = (ok: unknown, what: string): void => {
  if (!ok) throw new SmokeFailure(what);
};

/**
 * Runs every step against `target`, calling `log` with each step's outcome; resolves true when all passed.
 * Whatever it created is deleted at the end, pass or fail.
 */
export const runSmoke = async (target: SmokeTarget, log: (line: string) => void = console.log): Promise<boolean> => {
  // Every id this run creates starts with it.
  const run = `smoke${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const timeoutMs = target.timeoutMs ?? 60_000;
  const secret = randomBytes(12).toString('hex');
  const productId = run;
  const nodes = ['d0', 'd1', 'd2'];
  const ids = nodes.map((n) => `${productId}_${n}`);
  const devices = new Map<string, SimulatedDevice>();
  const cleanup: (() => Promise<unknown>)[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${target.api}${path}`, {
      method,
      headers: { 'X-Auth-Token': target.token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
  const expectStatus = (res: { status: number; body: any }, status: number, what: string) =>
    check(res.status === status, `${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  const poll = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new SmokeFailure(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const statusIs = (deviceId: string, status: string) =>
    poll(
      async () => ((await call('GET', `/devices/${deviceId}`)).body?.status === status ? true : undefined),
      `${deviceId} ${status}`,
    );
  const connect = async (deviceId: string, onMessage?: (m: { topic: string; payload: Buffer }) => void) => {
    const device = await connectDevice({
      deviceId,
      secret,
      host: target.mqtt.host,
      port: target.mqtt.port,
      ...(target.mqtt.tls ? { tls: target.mqtt.tls } : {}),
      connectTimeoutMs: timeoutMs,
      ...(onMessage ? { onMessage } : {}),
    });
    devices.set(deviceId, device);
    return device;
  };

  const step = async (name: string, body: () => Promise<string | void>) => {
    const started = performance.now();
    try {
      const detail = await body();
      log(`ok    ${(performance.now() - started).toFixed(0).padStart(6)} ms  ${name}${detail ? `: ${detail}` : ''}`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log(`FAIL  ${(performance.now() - started).toFixed(0).padStart(6)} ms  ${name}: ${message}`);
      throw e;
    }
  };

  let taskId: string | undefined;
  let passed = false;
  try {
    await step('create a product', async () => {
      const res = await call('POST', '/products', {
        product_id: productId,
        name: productId,
        device_type: 'Smoke',
        protocol_type: 'MQTT',
        service_capabilities: [],
      });
      expectStatus(res, 201, 'create product');
      cleanup.unshift(async () => expectStatus(await call('DELETE', `/products/${productId}`), 204, 'delete product'));
      return productId;
    });
    await step('add 3 devices', async () => {
      for (const node of nodes) {
        const res = await call('POST', '/devices', { node_id: node, product_id: productId, auth_info: { secret } });
        expectStatus(res, 201, `add device ${node}`);
        const id = res.body.device_id as string;
        cleanup.unshift(async () => expectStatus(await call('DELETE', `/devices/${id}`), 204, `delete device ${id}`));
      }
      return ids.join(', ');
    });
    const [first] = ids as [string];
    await step('connect with the Huawei scheme, subscribe sys/#, ONLINE', async () => {
      await connect(first);
      await statusIs(first, 'ONLINE');
      return `${first} at ${target.mqtt.host}:${target.mqtt.port}${target.mqtt.tls ? ' (TLS)' : ''}`;
    });
    await step('command round trip', async () => {
      const res = await call('POST', `/devices/${first}/commands`, { command_name: 'ping', paras: { n: 1 } });
      expectStatus(res, 200, 'create command');
      check(
        res.body.response?.result_code === 0 && res.body.response?.paras?.n === 1,
        `unexpected answer ${JSON.stringify(res.body)}`,
      );
      return `command ${res.body.command_id}`;
    });
    await step('property set and query', async () => {
      const set = await call('PUT', `/devices/${first}/properties`, {
        services: [{ service_id: 'Smoke', properties: { level: 1 } }],
      });
      expectStatus(set, 200, 'set properties');
      check(set.body.response?.result_code === 0, `unexpected set answer ${JSON.stringify(set.body)}`);
      const get = await call('GET', `/devices/${first}/properties?service_id=Smoke`);
      expectStatus(get, 200, 'query properties');
      check(Array.isArray(get.body.response?.services), `unexpected query answer ${JSON.stringify(get.body)}`);
    });
    await step('disconnect, OFFLINE', async () => {
      await devices.get(first)!.close();
      devices.delete(first);
      await statusIs(first, 'OFFLINE');
    });
    const messageId = `${run}-m`;
    await step('message to the offline device delivered on connect', async () => {
      const sent = await call('POST', `/devices/${first}/messages`, { message_id: messageId, message: { smoke: run } });
      expectStatus(sent, 201, 'create message');
      check(sent.body.result?.status === 'PENDING', `expected PENDING, got ${JSON.stringify(sent.body)}`);
      let resolveGot!: () => void;
      const got = new Promise<void>((r) => (resolveGot = r));
      // Attached before connecting: a kept message can arrive before the SUBACK.
      await connect(first, (m) => {
        if (m.topic.endsWith('/sys/messages/down') && JSON.parse(m.payload.toString()).id === messageId) resolveGot();
      });
      await Promise.race([
        got,
        new Promise((_, reject) =>
          setTimeout(() => reject(new SmokeFailure('the kept message never reached the device')), timeoutMs).unref(),
        ),
      ]);
      await poll(
        async () =>
          (await call('GET', `/devices/${first}/messages/${messageId}`)).body?.status === 'DELIVERED'
            ? true
            : undefined,
        'message DELIVERED',
      );
    });
    await step('3-device batch task to a final status', async () => {
      for (const id of ids.slice(1)) {
        await connect(id);
        await statusIs(id, 'ONLINE');
      }
      const res = await call('POST', '/batchtasks', {
        task_name: run,
        task_type: 'createCommands',
        targets: ids,
        document: { command_name: 'ping', paras: { n: 2 } },
      });
      expectStatus(res, 201, 'create batch task');
      taskId = res.body.task_id as string;
      const task = await poll(async () => {
        const b = (await call('GET', `/batchtasks/${taskId}`)).body?.batchtask;
        return FINAL.has(b?.status) ? b : undefined;
      }, 'the batch task to end');
      check(task.status === 'Success' && task.task_progress?.success === 3, `task ended ${JSON.stringify(task)}`);
      cleanup.unshift(async () =>
        expectStatus(await call('DELETE', `/batchtasks/${taskId}`), 204, 'delete batch task'),
      );
      return `${taskId} ${task.status}`;
    });
    if (target.queue) {
      const queue = target.queue;
      await step('notifications read back', async () => {
        const wanted = new Map<string, (n: NotificationEnvelope) => boolean>([
          [
            `device.status ONLINE ${first}`,
            (n) =>
              n.resource === 'device.status' &&
              n.notify_data.header?.device_id === first &&
              n.notify_data.body?.status === 'ONLINE',
          ],
          [
            `message ${messageId} DELIVERED`,
            (n) =>
              n.resource === 'device.message.status' &&
              n.notify_data.body?.message_id === messageId &&
              n.notify_data.body?.status === 'DELIVERED',
          ],
          [
            `batchtask ${taskId} Success`,
            (n) =>
              n.resource === 'batchtask' &&
              n.notify_data.body?.task_id === taskId &&
              n.notify_data.body?.status === 'Success',
          ],
        ]);
        await readNotifications(queue, [run, taskId!], wanted, timeoutMs);
        return 'device ONLINE, message DELIVERED, batch task Success';
      });
    } else log('skip            notifications read back (no --queue-url)');
    passed = true;
  } catch {
    // The failing step has printed why; what was created is still deleted.
  } finally {
    for (const d of devices.values()) await d.close().catch(() => undefined);
    try {
      await step('delete everything it created', async () => {
        for (const undo of cleanup) await undo();
      });
    } catch {
      passed = false;
    }
  }
  return passed;
};

/**
 * Reads the queue until every `wanted` envelope was seen. Envelopes about this run's resources are deleted;
 * any other is made visible again at once, for the application that owns the queue.
 */
const readNotifications = async (
  queue: NonNullable<SmokeTarget['queue']>,
  /** Strings only this run's envelopes hold: its id prefix, its task id (a batchtask envelope names no device). */
  markers: string[],
  wanted: Map<string, (n: NotificationEnvelope) => boolean>,
  timeoutMs: number,
) => {
  const sqs = new SQSClient(clientOptions(queue.region, queue.endpoint));
  const deadline = Date.now() + timeoutMs;
  while (wanted.size) {
    if (Date.now() > deadline)
      throw new SmokeFailure(`not in the queue after ${timeoutMs} ms: ${[...wanted.keys()].join('; ')}`);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const ours: Message[] = [];
    const others: Message[] = [];
    for (const m of Messages) {
      let n: NotificationEnvelope | undefined;
      try {
        n = JSON.parse(m.Body ?? '') as NotificationEnvelope;
      } catch {
        n = undefined;
      }
      if (!n || !markers.some((k) => m.Body!.includes(k))) {
        others.push(m);
        continue;
      }
      ours.push(m);
      for (const [key, matches] of wanted) if (matches(n)) wanted.delete(key);
    }
    const entries = (ms: Message[]) => ms.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
    if (ours.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: entries(ours) }));
    if (others.length)
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: entries(others).map((e) => ({ ...e, VisibilityTimeout: 0 })),
        }),
      );
  }
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      'mqtt-host': { type: 'string' },
      'mqtt-port': { type: 'string', default: '8883' },
      ca: { type: 'string' },
      'queue-url': { type: 'string' },
      region: { type: 'string', default: process.env.AWS_REGION ?? DEFAULT_REGION },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.api || values.token || values['mqtt-host']) {
    if (!values.api || !values.token || !values['mqtt-host']) {
      console.error(`--api, --token and --mqtt-host go together\n\n${USAGE}`);
      return 2;
    }
    const port = Number(values['mqtt-port']);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      console.error('--mqtt-port must be 1..65535');
      return 2;
    }
    const ok = await runSmoke({
      api: values.api.replace(/\/+$/, ''),
      token: values.token,
      mqtt: { host: values['mqtt-host'], port, tls: { ...(values.ca ? { ca: readFileSync(values.ca) } : {}) } },
      ...(values['queue-url'] ? { queue: { url: values['queue-url'], region: values.region } } : {}),
    });
    return ok ? 0 : 1;
  }
  // CI's target: the whole local runtime on free ports, in this process.
  const runtime = await startRuntime(ephemeralSettings({ bootstrapProject: 'smoke' }));
  try {
    console.log(`local runtime: api ${runtime.httpUrl}  mqtt ${runtime.mqttUrl}  sqs ${runtime.sqsUrl}`);
    const mqttUrl = new URL(runtime.mqttUrl);
    const ok = await runSmoke({
      api: `${runtime.httpUrl}/v5/iot/${runtime.project}`,
      token: runtime.token,
      mqtt: { host: mqttUrl.hostname, port: Number(mqttUrl.port) },
      queue: { url: runtime.queueUrls.notifications, region: DEFAULT_REGION, endpoint: runtime.sqsUrl },
    });
    return ok ? 0 : 1;
  } finally {
    await runtime.stop();
  }
};

// Exits at once: keep-alive sockets of the HTTP and SQS clients would otherwise hold the process.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(await main());
