import { localHost } from './local-host.ts';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectDevice, DeviceConnectError, type ReceivedMessage } from './simulated-device.ts';

const USAGE = `\
A device on the Downlink MQTT contract: signs in the Huawei way, prints what it receives, answers requests.

  npm run simulator -- --id DEVICE_ID --secret SECRET [options]

  --root oc|$oc          topic root (default oc); $oc needs the runtime started with DOWNLINK_TOPIC_ROOT='$oc'
  --host H --port P      broker (default $DOWNLINK_HOST:$DOWNLINK_MQTT_PORT when set, else 127.0.0.1:1883,
                         as the runtime's defaults; with --tls the port defaults to 8883)
  --tls                  MQTT over TLS with the host name as SNI, as on AWS IoT Core: --host is the domain
                         name of the stack's domain configuration
  --ca FILE              PEM file of the CA to trust instead of Node's bundled roots (which hold Amazon's)
  --sign-type 0|1        1 = the platform checks the timestamp (default 0)
  --reply echo|fixed|silent
                         echo: result_code 0 with the request's own fields (default);
                         fixed: publish --fixed-reply for every request; silent: never answer
  --fixed-reply JSON     the reply in fixed mode
  --delay-ms N           wait N ms before answering
  --quiet                print nothing per message

Received messages go to stdout, one line each: TOPIC PAYLOAD. Everything else goes to stderr.`;

// A declaration, not an arrow: TypeScript narrows after a call only to a declared `never` function.
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    secret: { type: 'string' },
    root: { type: 'string', default: 'oc' },
    // The runtime's own settings, so one environment serves both.
    host: { type: 'string', default: localHost(process.env) },
    port: { type: 'string' },
    tls: { type: 'boolean', default: false },
    ca: { type: 'string' },
    'sign-type': { type: 'string', default: '0' },
    reply: { type: 'string', default: 'echo' },
    'fixed-reply': { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const { id, secret, root, reply, quiet } = values;
if (!id || !secret) fail(`--id and --secret are required\n\n${USAGE}`);
if (root !== 'oc' && root !== '$oc') fail('--root must be oc or $oc');
if (reply !== 'echo' && reply !== 'fixed' && reply !== 'silent') fail('--reply must be echo, fixed or silent');
if (values['sign-type'] !== '0' && values['sign-type'] !== '1') fail('--sign-type must be 0 or 1');
if (values.ca && !values.tls) fail('--ca needs --tls');
const port = Number(values.port ?? (values.tls ? '8883' : process.env.DOWNLINK_MQTT_PORT || '1883'));
let ca: Buffer | undefined;
try {
  ca = values.ca ? readFileSync(values.ca) : undefined;
} catch (e) {
  fail(`--ca: cannot read ${values.ca}: ${(e as Error).message}`);
}
const delayMs = Number(values['delay-ms']);
if (!Number.isInteger(port) || port < 1 || port > 65_535) fail('--port must be 1..65535');
if (!Number.isInteger(delayMs) || delayMs < 0) fail('--delay-ms must be a whole number of ms');
let fixedReply: unknown;
if (reply === 'fixed') {
  if (values['fixed-reply'] === undefined) fail('--reply fixed needs --fixed-reply JSON');
  try {
    fixedReply = JSON.parse(values['fixed-reply']!);
  } catch {
    fail('--fixed-reply is not valid JSON');
  }
}

/** One line per message: UTF-8 text with control characters escaped, anything else as base64. */
const printable = (payload: Buffer): string => {
  const text = payload.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(payload)) return `base64:${payload.toString('base64')}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes
  return text.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
};

const device = await connectDevice({
  // Attached before connecting: messages kept while the device was offline arrive at connect.
  // Its own answers come back through its `sys/#` subscription: they are printed as replies, not as received.
  ...(quiet
    ? {}
    : {
        onMessage: (m: ReceivedMessage) =>
          !m.topic.includes('/response/request_id=') && console.log(`${m.topic} ${printable(m.payload)}`),
      }),
  deviceId: id,
  secret,
  root,
  host: values.host,
  port,
  ...(values.tls ? { tls: { ca } } : {}),
  signType: values['sign-type'] === '1' ? 1 : 0,
  reply,
  fixedReply,
  delayMs,
  // A person watching a device wants it back after a broker restart.
  reconnectPeriodMs: 5_000,
}).catch((e: unknown) => {
  console.error(e instanceof DeviceConnectError ? e.message : `${id}: cannot connect: ${String(e)}`);
  process.exit(1);
});

console.error(`${id} connected to ${values.host}:${port}, subscribed ${root}/devices/${id}/sys/#, reply ${reply}`);
if (!quiet) device.onReply((r) => console.error(`replied ${r.topic} ${r.payload}`));
// One line per outage, not one per retry.
let online = true;
device.client.on('offline', () => {
  if (online) console.error(`${id} disconnected; retrying every 5 s`);
  online = false;
});
device.client.on('connect', () => {
  online = true;
  console.error(`${id} reconnected`);
});
device.client.on('error', (e: Error & { code?: unknown }) => {
  // A refused CONNACK on reconnect (device deleted, secret changed) stops mqtt.js retrying: nothing left to do.
  if (typeof e.code === 'number') {
    console.error(`${id}: connection refused, CONNACK ${e.code}`);
    process.exit(1);
  }
  if (online) console.error(`${id}: ${e.message}`);
});

const stop = (signal: string) => {
  console.error(`${id} closing (${signal})`);
  device.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
