import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { PublishPacket } from 'aedes';
import { iotRules } from '../functions/manifest.ts';
import {
  currentScope,
  install,
  reset,
  runningInvocations,
  snapshot,
  type CallRecord,
  type InvocationRecord,
} from '../local/call-meter.ts';
import { compileRule, topicMatches } from '../local/iot-rules.ts';
import type { Runtime } from '../local/runtime.ts';
import { clientOptions } from '../shared/adapters/aws/client-options.ts';
import { createDeps } from '../functions/create-deps.ts';
import { connectDevice, type SimulatedDevice } from '../tools/simulated-device.ts';
import { DEFAULT_REGION } from '../shared/aws-names.ts';

/**
 * The operations `npm run bench -- cost` prices and test/integration/call-counts.test.ts pins, each run on
 * the local runtime with local/call-meter.ts counting, and each awaited to its end by events (the answer,
 * the device's receipt, the presence queue empty and no invocation running), never by time.
 */

/** What IoT Core would meter, counted at the local broker. */
export interface IotCounts {
  /** Publishes into the broker by devices (their answers), in 5 KB units. */
  deviceUnits: number;
  /** Publishes into the broker through iot-data Publish (the functions' downlinks), in 5 KB units. */
  apiUnits: number;
  /** Lifecycle events (`$aws/events/...`), in 5 KB units. */
  lifecycleUnits: number;
  /** Deliveries to devices: QoS 1 PUBACKs (every downlink is QoS 1), one 5 KB unit each (our payloads are smaller). */
  deliveries: number;
  /** Rules whose topic filter matched a publish; each has one action. */
  rulesTriggered: number;
  /**
   * MQTT CONNECTs, and subscriptions made for devices: the device's own SUBSCRIBE and the one the local
   * broker makes at connect (IoTDA's behaviour; IoT Core has no such thing).
   */
  connects: number;
  subscribes: number;
}

export interface Measured {
  calls: CallRecord[];
  invocations: InvocationRecord[];
  iot: IotCounts;
}

const UNIT = 5 * 1024;
const units = (bytes: number) => Math.max(1, Math.ceil(bytes / UNIT));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const COST_PRODUCT = {
  product_id: 'cost',
  name: 'cost',
  device_type: 'Cost',
  protocol_type: 'MQTT',
  service_capabilities: [
    {
      service_id: 'Meter',
      service_type: 'Meter',
      properties: [{ property_name: 'level', data_type: 'int', min: '0', max: '100', method: 'RW' }],
      commands: [{ command_name: 'ping', paras: [{ para_name: 'i', data_type: 'int', min: '0' }] }],
    },
  ],
};
export const COMMAND = { service_id: 'Meter', command_name: 'ping', paras: { i: 1 } };
export const PROPERTIES = { services: [{ service_id: 'Meter', properties: { level: 5 } }] };
/** The simulated device answers sync requests after this long, as the issue's sync command does. */
export const DEVICE_DELAY_MS = 100;

/**
 * A probe over one runtime: sets up devices (not counted), measures operations. Calls the probe makes itself
 * (reads through clients of its own, queue attribute reads) run outside any invocation, so they are not counted.
 */
export const costProbe = async (runtime: Runtime) => {
  install();
  const project = `/v5/iot/${runtime.project}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${runtime.httpUrl}${project}${path}`, {
      method,
      headers: { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const ok = async (p: Promise<{ status: number; body: any }>, status: number, what: string) => {
    const res = await p;
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  // IoT Core's meter, at the broker: what enters it, what it delivers, which rules match.
  const rules = iotRules(runtime.topicRoot).map((r) => compileRule(r.sql));
  const empty = (): IotCounts => ({
    deviceUnits: 0,
    apiUnits: 0,
    lifecycleUnits: 0,
    deliveries: 0,
    rulesTriggered: 0,
    connects: 0,
    subscribes: 0,
  });
  const iot = empty();
  const zero = () => Object.assign(iot, empty());
  runtime.broker.on('publish', (packet: PublishPacket, client) => {
    if (packet.topic.startsWith('$SYS/')) return;
    const u = units(Buffer.byteLength(packet.payload as Buffer));
    if (packet.topic.startsWith('$aws/events/')) iot.lifecycleUnits += u;
    else if (client) iot.deviceUnits += u;
    else iot.apiUnits += u;
    iot.rulesTriggered += rules.filter((r) => topicMatches(r.filter, packet.topic)).length;
  });
  runtime.broker.on('ack', (_packet, client) => {
    if (client) iot.deliveries += 1;
  });
  runtime.broker.on('client', () => void (iot.connects += 1));
  runtime.broker.on('subscribe', (_subscriptions, client) => {
    if (client) iot.subscribes += 1;
  });

  const sqs = new SQSClient(clientOptions(DEFAULT_REGION, runtime.sqsUrl));
  const queueEmpty = async () => {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: runtime.queueUrls.presence,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
  };
  /** Until `check` holds; `what` names it in the error of a run that hangs (a minute: a busy machine is slow). */
  const until = async (check: () => Promise<boolean> | boolean, what: string) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`cost: timed out waiting for ${what}`);
      await sleep(10);
    }
  };
  /**
   * The end of everything an operation set off: the presence queue empty and no invocation running, twice
   * 50 ms apart (an event may be between the broker and the queue, or the queue and its consumer, at the first look).
   */
  const settled = async () => {
    for (let quiet = 0; quiet < 2; ) {
      await sleep(50);
      quiet = (await queueEmpty()) && runningInvocations() === 0 ? quiet + 1 : 0;
    }
  };
  // The probe's own reads go through clients of its own: the runtime's coalesce reads of one loop turn, and
  // would fold the probe's into a handler's call.
  const own = createDeps(runtime.deps.config);
  const statusOf = async (deviceId: string) => (await own.devices.get(deviceId))?.presence.status;

  const port = Number(new URL(runtime.mqttUrl).port);
  const devices: SimulatedDevice[] = [];
  const connect = async (deviceId: string, secret: string) => {
    const d = await connectDevice({
      deviceId,
      secret,
      port,
      root: runtime.topicRoot,
      reply: 'echo',
      delayMs: DEVICE_DELAY_MS,
    });
    devices.push(d);
    await until(async () => (await statusOf(deviceId)) === 'ONLINE', `${deviceId} ONLINE`);
    return d;
  };
  const close = async (d: SimulatedDevice) => {
    devices.splice(devices.indexOf(d), 1);
    await d.close();
    await until(async () => (await statusOf(d.deviceId)) === 'OFFLINE', `${d.deviceId} OFFLINE`);
  };

  let n = 0;
  const register = async () => {
    const secret = `cost-secret-${++n}`;
    const body = await ok(
      call('POST', '/devices', {
        node_id: `cost-${process.pid}-${Date.now()}-${n}`,
        product_id: 'cost',
        auth_info: { secret },
      }),
      201,
      'add device',
    );
    return { deviceId: body.device_id as string, secret };
  };
  const created = await call('POST', '/products', COST_PRODUCT);
  if (created.status !== 201 && created.status !== 409)
    throw new Error(`create product: ${created.status} ${JSON.stringify(created.body)}`);
  const online = async () => {
    const { deviceId, secret } = await register();
    const device = await connect(deviceId, secret);
    await settled();
    return { deviceId, secret, device };
  };

  /** Runs `work` with the meter cleared before and read after everything it set off has ended. */
  const measure = async (work: () => Promise<void>): Promise<Measured> => {
    await settled();
    reset();
    zero();
    await work();
    await settled();
    return { ...snapshot(), iot: { ...iot } };
  };

  const receives = (d: SimulatedDevice, count: number) =>
    new Promise<void>((resolve) => {
      let got = 0;
      const off = d.onMessage((m) => {
        if (m.topic.endsWith('/sys/messages/down') && ++got === count) {
          off();
          resolve();
        }
      });
    });

  const batch = async (taskType: 'createCommands' | 'createMessages', targets: string[]) => {
    const document = taskType === 'createCommands' ? COMMAND : { message: 'to all' };
    const body = await ok(
      call('POST', '/batchtasks', { task_name: 'cost', task_type: taskType, targets, document }),
      201,
      'create batch task',
    );
    const taskId = body.task_id as string;
    // Ended when the settle function has run and set a final status (read outside any invocation: not counted).
    await until(async () => {
      const task = await own.batchTasks.get({ project: runtime.project, taskId });
      return ['Success', 'Fail', 'PartialSuccess', 'Stopped'].includes(task?.status ?? '');
    }, `batch task ${taskId}`);
  };

  return {
    online,
    register,
    connect,
    close,
    measure,
    /** The issue's operations; each returns once its own answer is in (measure waits for the rest). */
    ops: {
      command: async (deviceId: string) => {
        const body = await ok(call('POST', `/devices/${deviceId}/commands`, COMMAND), 200, 'command');
        if (!body.response) throw new Error(`command not answered: ${JSON.stringify(body)}`);
      },
      propertySet: async (deviceId: string) => {
        const body = await ok(call('PUT', `/devices/${deviceId}/properties`, PROPERTIES), 200, 'property set');
        if (!body.response) throw new Error(`property set not answered: ${JSON.stringify(body)}`);
      },
      propertyQuery: async (deviceId: string) => {
        const body = await ok(call('GET', `/devices/${deviceId}/properties?service_id=Meter`), 200, 'property query');
        if (!body.response) throw new Error(`property query not answered: ${JSON.stringify(body)}`);
      },
      messageOnline: async (device: SimulatedDevice) => {
        const received = receives(device, 1);
        const body = await ok(
          call('POST', `/devices/${device.deviceId}/messages`, { message: 'hello' }),
          201,
          'message',
        );
        if (body.result?.status !== 'DELIVERED') throw new Error(`message not delivered: ${JSON.stringify(body)}`);
        await received;
      },
      /** `count` messages to an offline device, then its reconnect, until it has them all. */
      messagesOffline: async (deviceId: string, secret: string, count: number) => {
        for (let i = 0; i < count; i++) {
          const body = await ok(
            call('POST', `/devices/${deviceId}/messages`, { message: `kept ${i}` }),
            201,
            'message',
          );
          if (body.result?.status !== 'PENDING') throw new Error(`message not pending: ${JSON.stringify(body)}`);
        }
        // The device's subscription is in its connect (the broker subscribes it), so nothing is missed.
        let all!: Promise<void>;
        const device = await connectDevice({
          deviceId,
          secret,
          port,
          root: runtime.topicRoot,
          onMessage: (() => {
            let got = 0;
            let done!: () => void;
            all = new Promise<void>((r) => (done = r));
            return (m: { topic: string }) => void (m.topic.endsWith('/sys/messages/down') && ++got === count && done());
          })(),
        });
        devices.push(device);
        await all;
        return device;
      },
      /** A device that is online goes away and comes back, as once a day; ends ONLINE. */
      reconnect: async (device: SimulatedDevice, secret: string) => {
        await close(device);
        return connect(device.deviceId, secret);
      },
      batchCommands: (targets: string[]) => batch('createCommands', targets),
      batchMessages: (targets: string[]) => batch('createMessages', targets),
    },
    stop: async () => {
      for (const d of devices.splice(0)) await d.close();
    },
    /** For the bench: the invocation a line of log output belongs to. */
    currentScope,
  };
};

export type CostProbe = Awaited<ReturnType<typeof costProbe>>;

/** Where a call stands relative to the caller's wait (bench/cost.ts, the call-count tests). */
export type PathPart = 'critical' | 'waiting' | 'answer' | 'rest';

/**
 * The caller's critical path: calls of the API's authorizer and route function before it returned. For a
 * sync request, apart from them: the route function's reads after its publish (the waiter's polls, as many
 * as the device's answer time makes), and the device-response function's calls (the answer's way back,
 * which the caller also waits on). A batch chunk's polls are `waiting` too, though no caller waits on them.
 */
export const pathPartOf = (c: CallRecord): PathPart => {
  if (c.fn === 'device-response') return 'answer';
  // The waiters poll through the coalescing reader (shared/adapters/aws/coalesced-items.ts): BatchGetItem.
  if (c.phase === 'after-publish' && WAITERS.has(c.fn!) && c.operation === 'BatchGetItem') return 'waiting';
  if ((c.trigger === 'http' || c.trigger === 'api-authorizer') && c.phase !== 'after-return') return 'critical';
  return 'rest';
};

// The functions that wait for devices' answers: the sync routes (shared/use-cases/send-sync-request.ts) and a
// batch chunk of commands.
const WAITERS = new Set(['create-command', 'update-properties', 'query-properties', 'batch-chunk']);

/**
 * Calls by `part function service operation`, counted, sorted: the shape the tests pin. Calls outside any
 * function are left out.
 */
export const callShape = (m: Measured): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const c of m.calls) {
    if (!c.fn) continue;
    const key = `${pathPartOf(c)} ${c.fn} ${c.service} ${c.operation}${c.error ? ` (${c.error})` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
};

/** Invocations by function, sorted. */
export const invocationShape = (m: Measured): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const i of m.invocations) counts[i.fn] = (counts[i.fn] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
};
