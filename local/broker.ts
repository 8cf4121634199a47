import { Aedes, type Client } from 'aedes';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { ConnectAttempt, ConnectVerdict } from '../shared/domain/device-auth.ts';
import { deviceDownlinkFilters, isDeviceOwnTopic, type TopicRoot } from '../shared/domain/topics.ts';
import { listen } from './net.ts';

export interface LifecycleEvent {
  clientId: string;
  eventType: 'connected' | 'disconnected' | 'subscribed' | 'unsubscribed';
  sessionIdentifier: string;
  principalIdentifier: string;
}

/** What the broker keeps per device connection. */
interface Session {
  deviceId: string;
  sessionId: string;
  keepalive: number | undefined;
}

const sessions = new WeakMap<Client, Session>();

export interface BrokerOptions {
  host: string;
  port: number;
  root: TopicRoot;
  authenticate(attempt: ConnectAttempt): Promise<ConnectVerdict>;
  onError(e: unknown): void;
}

/**
 * aedes standing in for AWS IoT Core: Huawei sign-in through the shared auth code, each device confined
 * to its own topics, subscribed to its system topics on connect (as IoTDA does), and AWS-shaped
 * lifecycle events published on the `$aws/events/...` topics for the rules to pick up.
 */
export const startBroker = async (opts: BrokerOptions) => {
  const broker = await Aedes.createBroker({ drainTimeout: 30_000 });
  const byDevice = new Map<string, Client>();

  /** An AWS lifecycle event on its `$aws/events/...` topic, where the IoT rules pick it up. */
  const publishLifecycle = (event: LifecycleEvent, extra: Record<string, unknown> = {}) =>
    new Promise<void>((resolve, reject) => {
      const kind = event.eventType === 'subscribed' || event.eventType === 'unsubscribed' ? 'subscriptions' : 'presence';
      const payload = Buffer.from(JSON.stringify({ ...event, timestamp: Date.now(), ...extra }));
      broker.publish(
        { cmd: 'publish', topic: `$aws/events/${kind}/${event.eventType}/${event.clientId}`, payload, qos: 0, retain: false, dup: false },
        (e) => (e ? reject(e) : resolve()),
      );
    });

  const lifecycle = (type: LifecycleEvent['eventType'], client: Client, extra: Record<string, unknown>) => {
    const s = sessions.get(client);
    if (!s) return;
    const event = { clientId: client.id, eventType: type, sessionIdentifier: s.sessionId, principalIdentifier: s.deviceId };
    publishLifecycle(event, extra).catch(opts.onError);
  };

  broker.preConnect = (client, packet, done) => {
    sessions.set(client, { deviceId: '', sessionId: randomUUID(), keepalive: packet.keepalive });
    done(null, true);
  };

  broker.authenticate = (client, username, password, done) => {
    const s = sessions.get(client)!;
    opts
      .authenticate({ clientId: client.id, username, password: password?.toString('utf8'), keepaliveSeconds: s.keepalive })
      .then((verdict) => {
        if (!verdict.ok) return done(Object.assign(new Error(verdict.reason), { returnCode: verdict.code }), false);
        s.deviceId = verdict.deviceId;
        // IoTDA allows one connection per device: a new one replaces the old, whatever its client id.
        const previous = byDevice.get(verdict.deviceId);
        if (previous && previous.id !== client.id) previous.close();
        byDevice.set(verdict.deviceId, client);
        done(null, true);
      })
      .catch((e: unknown) => {
        opts.onError(e);
        done(Object.assign(new Error('server unavailable'), { returnCode: 3 }), false);
      });
  };

  broker.authorizePublish = (client, packet, done) => {
    const s = client && sessions.get(client);
    if (!s || !isDeviceOwnTopic(opts.root, s.deviceId, packet.topic)) return done(new Error('topic not allowed'));
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const s = sessions.get(client);
    done(null, s && isDeviceOwnTopic(opts.root, s.deviceId, sub.topic) ? sub : null);
  };

  broker.on('clientReady', (client) => {
    lifecycle('connected', client, { ipAddress: (client.conn as Socket).remoteAddress, versionNumber: 0 });
    const s = sessions.get(client)!;
    const implicit = deviceDownlinkFilters(opts.root, s.deviceId).map((topic) => ({ topic, qos: 1 as const }));
    client.subscribe(implicit, (e) => e && opts.onError(e));
  });

  broker.on('subscribe', (subs, client) => {
    const topics = subs.filter((sub) => (sub.qos as number) !== 128).map((sub) => sub.topic);
    if (client && topics.length) lifecycle('subscribed', client, { topics });
  });

  // Stop waits for these: a device's disconnect is its last lifecycle event.
  const onDisconnect = new Map<Client, () => void>();
  broker.on('clientDisconnect', (client) => {
    onDisconnect.get(client)?.();
    const s = sessions.get(client);
    if (!s?.deviceId) return;
    if (byDevice.get(s.deviceId) === client) byDevice.delete(s.deviceId);
    const clientInitiated = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    lifecycle('disconnected', client, {
      clientInitiatedDisconnect: clientInitiated,
      disconnectReason: clientInitiated ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST',
      versionNumber: 0,
    });
  });

  const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
  await listen(server, opts.port, opts.host);

  return {
    broker,
    publishLifecycle,
    url: `mqtt://${opts.host}:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Devices first, while the broker can still publish their disconnects (lifecycle events for the
      // rules); closed the other way round, each disconnect failed on the closed emitter.
      const devices = [...byDevice.values()];
      const gone = devices.map((client) => new Promise<void>((resolve) => onDisconnect.set(client, resolve)));
      for (const client of devices) client.conn.destroy();
      // Bounded, so a disconnect aedes never reports cannot hold the stop.
      await Promise.race([Promise.all(gone), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
  };
};
