import mqtt, { type MqttClient } from 'mqtt';
import { devicePassword, signTimestamp } from '../shared/domain/device-auth.ts';
import { deviceSysFilter, deviceTopicPrefix, type TopicRoot } from '../shared/domain/topics.ts';
import { compactUtc } from '../shared/time.ts';

/**
 * A device speaking the IoTDA MQTT contract (CONTRACT.md §2, IoTDA §4): Huawei sign-in, its system
 * topics subscribed, and answers to commands and property set/get. The one simulated device used by the
 * CLI (tools/device-simulator.ts), the benchmarks and the tests.
 */

export type ReplyMode = 'echo' | 'fixed' | 'silent';

export interface DeviceOptions {
  deviceId: string;
  secret: string;
  root?: TopicRoot;
  host?: string;
  port?: number;
  /**
   * MQTT over TLS, as on AWS IoT Core (port 8883 of the stack's domain configuration). The host name is sent as
   * SNI, which IoT Core needs to pick the domain configuration; `ca` replaces Node's bundled roots (which hold
   * Amazon's) when given.
   */
  tls?: { ca?: string | Buffer };
  signType?: 0 | 1;
  reply?: ReplyMode;
  /** The JSON value published for every request in `fixed` mode. */
  fixedReply?: unknown;
  /** Wait this long before answering a request. */
  delayMs?: number;
  /** 0 (the default) gives up when the connection drops; tests and benchmarks want that. */
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /**
   * Called for every message from the first packet on: messages kept for an offline device arrive as soon
   * as it connects, possibly before its own SUBACK, so a listener added after connectDevice resolves can miss them.
   */
  onMessage?: (message: ReceivedMessage) => void;
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
}

export interface Reply {
  topic: string;
  payload: string;
}

export interface SimulatedDevice {
  readonly deviceId: string;
  /** The underlying mqtt.js client, for anything this module does not wrap (reports, custom topics). */
  readonly client: MqttClient;
  /** Calls `listener` for every message received; returns a function that stops it. */
  onMessage(listener: (message: ReceivedMessage) => void): () => void;
  /** Calls `listener` for every reply published to the platform. */
  onReply(listener: (reply: Reply) => void): () => void;
  /** The next message (from now on) that `match` accepts; rejects after `timeoutMs`. */
  nextMessage(match?: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  close(): Promise<void>;
}

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes; mqtt.js names them with MQTT 5 reason strings, which mislead. */
const CONNACK_MEANING: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected (client id malformed or keepalive out of range)',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export class DeviceConnectError extends Error {
  constructor(
    message: string,
    /** The CONNACK return code, when the broker sent one. */
    readonly connackCode: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeviceConnectError';
  }
}

/** Client id, username and password for a connect now (IoTDA §4.1). */
export const huaweiCredentials = (deviceId: string, secret: string, signType: 0 | 1, nowMs = Date.now()) => {
  const timestamp = signTimestamp(nowMs);
  return {
    clientId: `${deviceId}_0_${signType}_${timestamp}`,
    username: deviceId,
    password: devicePassword(secret, timestamp),
  };
};

// IoTDA §4.2: requests carry their id in the topic; the answer goes to `.../response/request_id={same id}`.
const REQUEST = /^sys\/(commands|properties\/set|properties\/get)\/request_id=([^/]+)$/;

type RequestKind = 'commands' | 'properties/set' | 'properties/get';

const parseJson = (payload: Buffer): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** The answers of a well-behaved device (IoTDA §4.4). */
const echoReply = (kind: RequestKind, request: Record<string, unknown>): unknown => {
  switch (kind) {
    case 'commands':
      return { result_code: 0, response_name: request.command_name, paras: request.paras };
    case 'properties/set':
      return { result_code: 0, result_desc: 'success' };
    case 'properties/get':
      return { services: [{ service_id: request.service_id, properties: {}, event_time: compactUtc(Date.now()) }] };
  }
};

/** Connects, subscribes `{root}/devices/{id}/sys/#`, and resolves once both are acknowledged. */
export const connectDevice = async (opts: DeviceOptions): Promise<SimulatedDevice> => {
  const { deviceId, secret, root = 'oc', signType = 0, reply = 'echo', delayMs = 0 } = opts;
  const prefix = deviceTopicPrefix(root, deviceId);
  const host = opts.host ?? '127.0.0.1';
  const client = mqtt.connect({
    host,
    port: opts.port ?? (opts.tls ? 8883 : 1883),
    ...(opts.tls
      ? {
          protocol: 'mqtts' as const,
          servername: host,
          rejectUnauthorized: true,
          ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
        }
      : { protocol: 'mqtt' as const }),
    protocolVersion: 4,
    // IoTDA §4.1: keepalive 30..1200 s, 120 recommended; the SDKs always connect with a clean session.
    keepalive: 120,
    clean: true,
    reconnectPeriod: opts.reconnectPeriodMs ?? 0,
    connectTimeout: opts.connectTimeoutMs ?? 30_000,
    ...huaweiCredentials(deviceId, secret, signType),
  });
  // Sign type 1 is checked against the clock: every reconnect signs afresh.
  client.on('reconnect', () => Object.assign(client.options, huaweiCredentials(deviceId, secret, signType)));

  const messageListeners = new Set<(m: ReceivedMessage) => void>(opts.onMessage ? [opts.onMessage] : []);
  const replyListeners = new Set<(r: Reply) => void>();
  const timers = new Set<NodeJS.Timeout>();

  const answer = (kind: RequestKind, requestId: string, request: Buffer) => {
    if (reply === 'silent') return;
    const body = reply === 'fixed' ? opts.fixedReply : echoReply(kind, parseJson(request));
    const out = { topic: `${prefix}sys/${kind}/response/request_id=${requestId}`, payload: JSON.stringify(body ?? {}) };
    client.publish(out.topic, out.payload, { qos: 1 }, (e) => {
      if (!e) for (const l of replyListeners) l(out);
    });
  };

  client.on('message', (topic, payload) => {
    for (const l of messageListeners) l({ topic, payload });
    const m = topic.startsWith(prefix) ? REQUEST.exec(topic.slice(prefix.length)) : null;
    if (!m) return;
    const go = () => answer(m[1] as RequestKind, m[2]!, payload);
    if (delayMs <= 0) return go();
    const timer = setTimeout(() => {
      timers.delete(timer);
      go();
    }, delayMs);
    timers.add(timer);
  });

  await new Promise<void>((resolve, reject) => {
    const settle = (e?: Error & { code?: unknown }) => {
      client.off('error', settle).off('close', closed).off('connect', connected);
      if (!e) return resolve();
      client.end(true);
      const code = typeof e.code === 'number' ? e.code : undefined;
      const why = code === undefined ? e.message : `CONNACK ${code}: ${CONNACK_MEANING[code] ?? 'unknown code'}`;
      reject(new DeviceConnectError(`${deviceId}: connection refused, ${why}`, code, { cause: e }));
    };
    // A broker that drops the socket without a CONNACK (or nothing listening) ends here.
    const closed = () => settle(new Error('connection closed before CONNACK'));
    const connected = () => settle();
    client.on('error', settle).on('close', closed).on('connect', connected);
  });
  try {
    // AWS IoT Core never subscribes a device implicitly (CONTRACT.md §2); locally this repeats the broker's.
    await client.subscribeAsync(deviceSysFilter(root, deviceId), { qos: 1 });
  } catch (e) {
    client.end(true);
    throw new DeviceConnectError(`${deviceId}: subscribe to ${deviceSysFilter(root, deviceId)} refused`, undefined, {
      cause: e,
    });
  }
  // Later errors (a refused publish, a dropped link) are reported by the 'close'/'offline' events, not thrown.
  client.on('error', () => undefined);

  return {
    deviceId,
    client,
    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    onReply(listener) {
      replyListeners.add(listener);
      return () => replyListeners.delete(listener);
    },
    nextMessage(match = () => true, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          messageListeners.delete(listener);
          reject(new Error(`${deviceId}: no matching message within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (m: ReceivedMessage) => {
          if (!match(m)) return;
          clearTimeout(timer);
          messageListeners.delete(listener);
          resolve(m);
        };
        messageListeners.add(listener);
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await client.endAsync();
    },
  };
};
