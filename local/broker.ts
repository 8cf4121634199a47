import { Aedes, type Client } from 'aedes';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { ConnackCode, deviceIdOfClient, keepaliveAllowed, refusalCode } from '../shared/domain/device-auth.ts';
import { deviceDownlinkFilters, type TopicRoot } from '../shared/domain/topics.ts';
import type { ConnectionGrant, MqttSignIn } from './device-sign-in.ts';
import { listen } from './net.ts';
import { signInThrottle } from './sign-in-throttle.ts';

export interface LifecycleEvent {
  clientId: string;
  eventType: 'connected' | 'disconnected' | 'subscribed' | 'unsubscribed';
  sessionIdentifier: string;
  principalIdentifier: string;
}

/** What the broker keeps per connection. */
interface Session {
  socket: Socket;
  deviceId: string;
  grant: ConnectionGrant; // what its sign-in's policy lets it do
  sessionId: string;
  keepalive: number | undefined;
  announced: boolean; // its `connected` event was sent
  ended: boolean; // its socket closed: nothing more is said about this session
  gone: Promise<void>; // settles once the socket has closed and its `disconnected` event was sent
  endTurn?: () => void; // lets the device's next sign-in go on
}

const sessions = new WeakMap<Client, Session>();

// IoT Core refuses a PUBLISH whose payload is over 128 KB (PAYLOAD_LIMIT_EXCEEDED) and disconnects the client.
const MAX_PAYLOAD_BYTES = 128 * 1024;
// Any packet a device sends: that payload plus room for a topic (IoT Core: at most 256 bytes) and headers.
const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;

/** The part of aedes' persistence that holds a client id's stored session. */
interface StoredSessions {
  cleanSubscriptions(client: { id: string }): Promise<void>;
  outgoingStream(client: { id: string }): AsyncIterable<unknown>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
}

/** The part of mqtt-packet's parser (aedes has no packet size option) that reads a packet's length. */
interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(e: Error): void;
}

/**
 * Closes the connection as soon as a packet's fixed header announces more than MAX_PACKET_BYTES, before
 * any of it is buffered: MQTT allows 256 MB, which a device could otherwise make the broker hold.
 */
const limitPacketSize = (client: Client) => {
  const parser = (client as unknown as { _parser: PacketParser })._parser;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    if (!parseLength()) return false;
    if (parser.packet.length <= MAX_PACKET_BYTES) return true;
    parser._emitError(new Error(`packet of ${parser.packet.length} bytes is over the ${MAX_PACKET_BYTES} allowed`));
    return false;
  };
};

export interface BrokerOptions {
  host: string;
  port: number;
  root: TopicRoot;
  /** The device authorizer, as IoT Core runs it: a grant for the connection, or undefined when refused. */
  signIn(attempt: MqttSignIn): Promise<ConnectionGrant | undefined>;
  onError(e: unknown): void;
}

/**
 * Per device, the sign-ins that passed authentication take turns: each one closes the connection before
 * it and waits for that close to be fully handled (its `disconnected` event sent, aedes' registration gone)
 * before it registers. Authentication is async, so without turns two CONNECTs could both pass it and both
 * stay open; aedes' own same-client-id takeover, run from several connects at once, also leaves some open.
 */
const signInTurns = () => {
  const tails = new Map<string, Promise<void>>();
  return async (deviceId: string): Promise<() => void> => {
    const before = tails.get(deviceId) ?? Promise.resolve();
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = resolve));
    const tail = before.then(() => mine);
    tails.set(deviceId, tail);
    await before;
    return () => {
      end();
      if (tails.get(deviceId) === tail) tails.delete(deviceId);
    };
  };
};

/**
 * aedes standing in for AWS IoT Core: sign-in through the stack's device authorizer, whose policy then decides
 * every connect, publish, subscribe and receive (local/iot-policy.ts), and AWS-shaped lifecycle events on the
 * `$aws/events/...` topics for the rules to pick up. Local only, as IoTDA does and IoT Core does not: one
 * connection per device (IoT Core: per client id, and the Huawei client id changes every hour), IoTDA's
 * CONNACK codes, and the device subscribed to its system topics at connect (Huawei's device SDKs rely on it).
 */
export const startBroker = async (opts: BrokerOptions) => {
  const broker = await Aedes.createBroker({ drainTimeout: 30_000 });
  const byDevice = new Map<string, Client>(); // the newest connection of each device
  const takeTurn = signInTurns();
  const throttle = signInThrottle();

  // Strictly increasing event times: presence orders a device's sessions by them, and two events in the
  // same millisecond would leave the order to chance.
  let lastStamp = 0;
  const stamp = () => (lastStamp = Math.max(Date.now(), lastStamp + 1));

  /** An AWS lifecycle event on its `$aws/events/...` topic, where the IoT rules pick it up. */
  const publishLifecycle = (event: LifecycleEvent, extra: Record<string, unknown> = {}) =>
    new Promise<void>((resolve, reject) => {
      const kind =
        event.eventType === 'subscribed' || event.eventType === 'unsubscribed' ? 'subscriptions' : 'presence';
      const payload = Buffer.from(JSON.stringify({ ...event, timestamp: stamp(), ...extra }));
      broker.publish(
        {
          cmd: 'publish',
          topic: `$aws/events/${kind}/${event.eventType}/${event.clientId}`,
          payload,
          qos: 0,
          retain: false,
          dup: false,
        },
        (e) => (e ? reject(e) : resolve()),
      );
    });

  const lifecycle = (type: LifecycleEvent['eventType'], client: Client, s: Session, extra: Record<string, unknown>) => {
    const event = {
      clientId: client.id,
      eventType: type,
      sessionIdentifier: s.sessionId,
      principalIdentifier: s.deviceId,
    };
    publishLifecycle(event, extra).catch(opts.onError);
  };

  /** The socket's close ends the session: the one place its `disconnected` event is sent. */
  const onClose = (client: Client, s: Session) => {
    s.ended = true;
    s.endTurn?.();
    if (byDevice.get(s.deviceId) === client) byDevice.delete(s.deviceId);
    if (!s.announced) return;
    const clientInitiated = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    lifecycle('disconnected', client, s, {
      clientInitiatedDisconnect: clientInitiated,
      disconnectReason: clientInitiated ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST',
      versionNumber: 0,
    });
  };

  /** IoTDA allows one connection per device: a new one replaces the old, whatever its client id. */
  const replacePrevious = async (deviceId: string, client: Client) => {
    const previous = byDevice.get(deviceId);
    byDevice.set(deviceId, client);
    if (!previous || previous === client) return;
    previous.close();
    await sessions.get(previous)!.gone;
  };

  /**
   * One stored session per device, its newest client id's: the Huawei client id changes every hour, and each
   * persistent session (clean: false) left behind would queue its own copy of every message for the device.
   * When a device signs in under another client id, the old one's subscriptions and queued messages go.
   */
  const storedSessionOf = new Map<string, string>();
  const keepOneStoredSession = async (deviceId: string, clientId: string) => {
    const old = storedSessionOf.get(deviceId);
    storedSessionOf.set(deviceId, clientId);
    if (old === undefined || old === clientId) return;
    const persistence = (broker as unknown as { persistence: StoredSessions }).persistence;
    await persistence.cleanSubscriptions({ id: old });
    for await (const packet of persistence.outgoingStream({ id: old }))
      await persistence.outgoingClearMessageId({ id: old }, packet);
  };

  // aedes keeps connections by client id. A client closed while its connect was still on the way must not
  // register (it would take the id, and close the connection now holding it, after its own close was
  // handled), and a closing client must not remove the entry of a newer connection with its id.
  const internals = broker as unknown as {
    registerClient(c: Client): void;
    unregisterClient(c: Client): void;
    clients: Record<string, Client>;
  };
  const register = internals.registerClient.bind(broker);
  const unregister = internals.unregisterClient.bind(broker);
  internals.registerClient = (client) => {
    if (!client.closed) register(client);
  };
  internals.unregisterClient = (client) => {
    if (internals.clients[client.id] === client) unregister(client);
  };

  broker.preConnect = (client, packet, done) => {
    sessions.get(client)!.keepalive = packet.keepalive;
    done(null, true);
  };

  broker.authenticate = (client, username, password, done) => {
    const s = sessions.get(client)!;
    const refuse = (code: number, reason: string) =>
      done(Object.assign(new Error(reason), { returnCode: code }), false);
    if (!keepaliveAllowed(s.keepalive)) return refuse(ConnackCode.identifierRejected, 'keepalive out of range');
    // Password guessing is slowed per client address and claimed device id (local/sign-in-throttle.ts).
    const deviceId = deviceIdOfClient(client.id);
    const guesser = `${s.socket.remoteAddress}|${deviceId ?? ''}`;
    if (throttle.isLocked(guesser)) return refuse(ConnackCode.serverUnavailable, 'too many failed sign-ins, try later');
    opts
      .signIn({ clientId: client.id, username, password })
      .then(async (grant) => {
        if (!grant || deviceId === undefined) {
          const code = refusalCode(client.id);
          if (code === ConnackCode.badCredentials) throttle.failed(guesser);
          return refuse(code, 'sign-in refused by the device authorizer');
        }
        if (!grant('iot:Connect', `client/${client.id}`))
          return refuse(ConnackCode.notAuthorized, 'connect not allowed by the policy');
        throttle.succeeded(guesser);
        s.deviceId = deviceId;
        s.grant = grant;
        const endTurn = await takeTurn(deviceId);
        // Ended at `clientReady`, or when the socket closes, whichever comes first.
        s.endTurn = endTurn;
        if (s.ended) return endTurn();
        await replacePrevious(deviceId, client);
        await keepOneStoredSession(deviceId, client.id);
        done(null, true);
      })
      .catch((e: unknown) => {
        s.endTurn?.();
        opts.onError(e);
        refuse(ConnackCode.serverUnavailable, 'server unavailable');
      });
  };

  broker.authorizePublish = (client, packet, done) => {
    const s = client && sessions.get(client);
    if (!s || !s.grant('iot:Publish', `topic/${packet.topic}`))
      return done(new Error('topic not allowed by the policy'));
    if (packet.payload.length > MAX_PAYLOAD_BYTES) return done(new Error('payload over 128 KB'));
    // The device policy on AWS grants no iot:RetainPublish (the downlink never needs a retained message),
    // so IoT Core refuses a retained publish and disconnects: nothing a device sends is kept here either.
    if (packet.retain) return done(new Error('retained messages not allowed'));
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const s = sessions.get(client);
    done(null, s && s.grant('iot:Subscribe', `topicfilter/${sub.topic}`) ? sub : null);
  };

  // What a subscription matches is delivered only where the policy allows receiving it, as IoT Core does.
  broker.authorizeForward = (client, packet) => {
    const s = sessions.get(client);
    return s && s.grant('iot:Receive', `topic/${packet.topic}`) ? packet : undefined;
  };

  broker.on('clientReady', (client) => {
    const s = sessions.get(client)!;
    s.endTurn?.();
    if (s.ended) return;
    s.announced = true;
    lifecycle('connected', client, s, { ipAddress: s.socket.remoteAddress, versionNumber: 0 });
    const implicit = deviceDownlinkFilters(opts.root, s.deviceId).map((topic) => ({ topic, qos: 1 as const }));
    client.subscribe(implicit, (e) => e && opts.onError(e));
  });

  broker.on('subscribe', (subs, client) => {
    const s = client && sessions.get(client);
    const topics = subs.filter((sub) => (sub.qos as number) !== 128).map((sub) => sub.topic);
    // A subscription that completes after its connection closed says nothing about the device any more.
    if (s && s.announced && !s.ended && topics.length) lifecycle('subscribed', client, s, { topics });
  });

  // Every socket, so the connections a device holds can be counted from the broker's side.
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const client = broker.handle(socket);
    limitPacketSize(client);
    let closed!: () => void;
    const s: Session = {
      socket,
      deviceId: '',
      grant: () => false,
      sessionId: randomUUID(),
      keepalive: undefined,
      announced: false,
      ended: false,
      gone: new Promise<void>((resolve) => (closed = resolve)),
    };
    sessions.set(client, s);
    socket.once('close', () => {
      sockets.delete(socket);
      onClose(client, s);
      closed();
    });
  });
  /** Open connections whose client id names this device. */
  const connectionsOf = (deviceId: string) =>
    [...sockets].filter((socket) => {
      const id = (socket as Socket & { client?: Client }).client?.id;
      return !socket.destroyed && id != null && deviceIdOfClient(id) === deviceId;
    }).length;
  await listen(server, opts.port, opts.host);

  return {
    broker,
    publishLifecycle,
    connectionsOf,
    url: `mqtt://${opts.host}:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Devices first, while the broker can still publish their disconnects (lifecycle events for the
      // rules); closed the other way round, each disconnect failed on the closed emitter.
      const open = [...sockets];
      const gone = open.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
      for (const socket of open) socket.destroy();
      // Bounded, so a close that never comes cannot hold the stop.
      await Promise.race([Promise.all(gone), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
  };
};
