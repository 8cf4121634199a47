import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { FUNCTIONS } from '../functions/manifest.ts';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { createApiToken } from '../shared/use-cases/manage-api-tokens.ts';
import { connectDevice, type SimulatedDevice } from '../tools/simulated-device.ts';

/**
 * `npm run bench -- fuzz [--seed N] [--count N] [--concurrency N]`: seeded malformed REST requests over every
 * route of functions/manifest.ts (paths, encodings, headers, tokens, bodies) against a local runtime it starts.
 * Prints the count of each status and every 5xx (or request left unanswered) with its request; exits 1 if any.
 * The same seed sends the same requests in the same order; answers may differ with timing (sync waits).
 */

// ---- a seeded generator (mulberry32): the whole request list follows from the seed

const prng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => next() < p };
};
type Rng = ReturnType<typeof prng>;

// ---- bodies are built as JSON text, so they can hold what JSON.stringify cannot write (1e400, lone surrogates)

class Raw {
  constructor(readonly text: string) {}
}
type J = null | boolean | number | string | Raw | J[] | { [k: string]: J };
const toJson = (v: J): string =>
  v instanceof Raw
    ? v.text
    : Array.isArray(v)
      ? `[${v.map(toJson).join(',')}]`
      : v !== null && typeof v === 'object'
        ? `{${Object.entries(v)
            .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
            .join(',')}}`
        : JSON.stringify(v);

// Placeholders resolved when a request is sent: ids that exist only once the runtime is set up.
const DEVICE = (i: number) => `@@device${i}@@`;
const TASK = (i: number) => `@@task${i}@@`;
const DEVICES = 6;
const TASKS = 3;
const RULE = (i: number) => `@@rule${i}@@`;
const ACTION = (i: number) => `@@action${i}@@`;
const RULES = 2;

const NUMBERS = [
  '1e400',
  '-1e400',
  '9007199254740993',
  '9007199254740991',
  '1e20',
  '1.5e300',
  '1e-200',
  '1e-400',
  '-0',
  '0.1',
  '1e-130',
  '123456789012345678901234567890',
  '-1',
  '0',
  '5',
  '1440',
  '1441',
  '3.5',
];
const STRINGS = [
  '',
  ' ',
  'x'.repeat(129),
  'x'.repeat(300),
  '😀',
  'ünï©ødé',
  '\u0000',
  '\u202e',
  '%',
  '../..',
  '<script>',
  'a/b',
  'a+b#',
  '$oc/devices/x',
  'DROP TABLE',
  'ON',
];
const RAW_STRINGS = ['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\\"\\\\"'];

const evilValue = (r: Rng, depth = 0): J => {
  switch (r.int(depth > 2 ? 5 : 9)) {
    case 0:
      return new Raw(r.pick(NUMBERS));
    case 1:
      return r.pick(STRINGS);
    case 2:
      return new Raw(r.pick(RAW_STRINGS));
    case 3:
      return r.pick([null, true, false, 0, -1, 1]);
    case 4:
      return r.pick([[], {}, 'x'.repeat(r.pick([1_000, 70_000, 300_000]))]);
    case 5:
      return Array.from({ length: r.int(4) }, () => evilValue(r, depth + 1));
    case 6:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [
          r.pick(['', 'a', '__proto__', 'constructor', '.', '$x', '😀', 'x'.repeat(300)]),
          evilValue(r, depth + 1),
        ]),
      );
    case 7:
      return deepValue(r);
    default:
      return Array.from({ length: r.pick([100, 1_000, 31_000]) }, (_, i) => `id${i}`);
  }
};

/** A value nested `levels` deep, as text: arrays, objects or both. */
const deepValue = (r: Rng): Raw => {
  const levels = r.pick([19, 20, 21, 32, 33, 100, 1_000, 6_000, 50_000]);
  return r.chance(0.5)
    ? new Raw(`${'['.repeat(levels)}1${']'.repeat(levels)}`)
    : new Raw(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
};

// ---- what each route takes, when well formed

/** The model of the fuzz devices' product: the commands and properties the valid bodies send. */
const FUZZ_MODEL: J = [
  {
    service_id: 'svc',
    service_type: 'Fuzz',
    properties: [{ property_name: 'on', data_type: 'boolean', method: 'RW' }],
    commands: [
      {
        command_name: 'cmd',
        paras: [
          { para_name: 'on', data_type: 'boolean' },
          { para_name: 'level', data_type: 'int', min: '0', max: '100' },
        ],
      },
    ],
  },
];

const validBody = (r: Rng, method: string, path: string): J | undefined => {
  const device = () => DEVICE(r.int(DEVICES));
  if (method === 'POST' && path.endsWith('/products'))
    return {
      product_id: `p${r.int(1e6)}`,
      name: 'fuzz',
      device_type: 'Fuzz',
      protocol_type: 'MQTT',
      service_capabilities: r.chance(0.5) ? FUZZ_MODEL : [],
    };
  if (method === 'PUT' && path.includes('/products/'))
    return r.chance(0.5) ? { description: 'changed' } : { service_capabilities: FUZZ_MODEL };
  if (method === 'POST' && path.endsWith('/devices'))
    return {
      node_id: `n${r.int(1e6)}`,
      product_id: 'prod',
      ...(r.chance(0.5) ? { auth_info: { secret: 'secret-1234' } } : {}),
    };
  if (path.endsWith('/commands'))
    return { service_id: 'svc', command_name: 'cmd', paras: { on: true, level: r.int(10) } };
  if (path.endsWith('/properties')) return { services: [{ service_id: 'svc', properties: { on: r.chance(0.5) } }] };
  if (path.endsWith('/messages'))
    return {
      message: r.chance(0.5) ? { text: 'hi' } : 'aGk=',
      ...(r.chance(0.3) ? { message_id: `m${r.int(50)}` } : {}),
      ...(r.chance(0.3) ? { encoding: 'base64' } : {}),
      ...(r.chance(0.3) ? { ttl: r.pick([0, 5, 1440]) } : {}),
      ...(r.chance(0.2) ? { topic: 'user/x' } : {}),
      ...(r.chance(0.2) ? { payload_format: 'raw' } : {}),
    };
  if (path.endsWith('/batchtasks')) {
    const messages = r.chance(0.5);
    return {
      task_name: 't',
      task_type: messages ? 'createMessages' : 'createCommands',
      targets: Array.from({ length: 1 + r.int(3) }, device),
      document: messages ? { message: { text: 'hi' }, ttl: 5 } : { paras: { on: true } },
      ...(r.chance(0.2) ? { task_policy: { retry_count: r.int(7), retry_interval: r.int(2000) } } : {}),
    };
  }
  if (path.endsWith('/stop') || path.endsWith('/retry')) return r.chance(0.5) ? { targets: [device()] } : undefined;
  if (path.endsWith('/rules'))
    return {
      rule_name: 'fuzz',
      subject: { resource: r.pick(['device.status', 'device.message.status', 'batchtask']), event: 'update' },
      ...(r.chance(0.5) ? { where: "notify_data.body.status = 'ONLINE' OR (a.b != 1 AND NOT c = true)" } : {}),
    };
  if (path.includes('/rules/'))
    return r.chance(0.5) ? { active: r.chance(0.5) } : { select: '*', where: "notify_data.header.device_id = 'x'" };
  if (path.includes('/actions'))
    return {
      ...(method === 'POST' ? { rule_id: RULE(r.int(RULES)) } : {}),
      channel: 'HTTP_FORWARDING',
      channel_detail: { http_forwarding: { url: `http://127.0.0.1:9/${r.int(1e6)}`, token: 'abc123' } },
    };
  return undefined;
};

/**
 * The valid body with one place given an evil value: a field replaced or added, at any depth, so the rest of
 * the body stays valid and the value gets past the first checks.
 */
const mutate = (r: Rng, body: J): J => {
  if (body === null || typeof body !== 'object' || body instanceof Raw) return evilValue(r);
  const keys = Object.keys(body);
  const copy: any = Array.isArray(body) ? [...body] : { ...body };
  const nested = keys.filter((k) => typeof copy[k] === 'object' && copy[k] !== null);
  if (nested.length && r.chance(0.6)) {
    const key = r.pick(nested);
    copy[key] = mutate(r, copy[key] as J);
  } else if (!keys.length || r.chance(0.3)) {
    copy[Array.isArray(copy) ? copy.length : r.pick(['x', '', '__proto__', 'v'])] = evilValue(r);
  } else {
    copy[r.pick(keys)] = evilValue(r);
  }
  return copy as J;
};

const INVALID_JSON = [
  '{',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  '{"a":NaN}',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  'nul',
  '[1,2',
  '"\\x"',
  '{"a":"\\ud800',
  '',
];

const bodyFor = (r: Rng, method: string, path: string): { text: string | Buffer; kind: string } | undefined => {
  const valid = validBody(r, method, path);
  const wantsBody = method === 'POST' || method === 'PUT';
  if (!wantsBody && !r.chance(0.1)) return undefined;
  const roll = r.next();
  if (roll < 0.3) return valid === undefined ? undefined : { text: toJson(valid), kind: 'valid' };
  if (roll < 0.6) return { text: toJson(mutate(r, valid ?? {})), kind: 'mutated' };
  if (roll < 0.68) return { text: toJson(evilValue(r)), kind: 'evil value' };
  if (roll < 0.78) return { text: r.pick(INVALID_JSON), kind: 'invalid JSON' };
  if (roll < 0.82)
    return {
      text: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]),
      kind: 'invalid UTF-8',
    };
  if (roll < 0.86) return { text: '', kind: 'empty' };
  if (roll < 0.92) return { text: toJson(deepValue(r)), kind: 'deep' };
  if (roll < 0.998)
    return {
      text: toJson({ message: 'x'.repeat(r.pick([256 * 1024, 1_000_000])), paras: { s: 'x'.repeat(300_000) } }),
      kind: 'large',
    };
  return { text: Buffer.alloc(10 * 2 ** 20 + 1, 0x20), kind: 'over 10 MB' };
};

// ---- paths, headers, tokens

const ROUTES = FUNCTIONS.flatMap((f) =>
  f.triggers.flatMap((t) => (t.kind === 'http' ? [{ method: t.method as string, path: t.path }] : [])),
);

const BAD_SEGMENTS = [
  '%',
  '%E0%A4%A',
  '%ZZ',
  '%00',
  '%2F',
  '%252F',
  '%20',
  '..',
  '.',
  'x'.repeat(129),
  'x'.repeat(3000),
  '%F0%9F%98%80',
  encodeURIComponent('ünï'),
  '%C0%AF',
  'a%2Fb',
  '-',
  '_',
  '%25',
  "'",
  '*',
  '%0D%0A',
];

const paramValue = (r: Rng, name: string): string => {
  if (name === 'project_id') return r.chance(0.9) ? '@@project@@' : r.pick(['other', 'nope', ...BAD_SEGMENTS]);
  if (r.chance(0.7))
    return name === 'task_id'
      ? TASK(r.int(TASKS))
      : name === 'rule_id'
        ? RULE(r.int(RULES))
        : name === 'action_id'
          ? ACTION(r.int(RULES))
          : name === 'message_id'
            ? `m${r.int(50)}`
            : name === 'product_id'
              ? 'prod'
              : DEVICE(r.int(DEVICES));
  if (r.chance(0.5))
    return name === 'task_id' || name === 'rule_id' || name === 'action_id'
      ? Array.from({ length: 24 }, () => r.pick([...'0123456789abcdef'])).join('')
      : `id-${r.int(1e6)}`;
  return r.pick(BAD_SEGMENTS);
};

const QUERIES = [
  '',
  '',
  '',
  '?limit=0',
  '?limit=abc',
  '?limit=51',
  '?offset=-1',
  '?marker=%',
  '?marker=zz',
  '?service_id=',
  '?service_id=svc',
  '?task_type=createCommands',
  '?task_type=x&status=Success',
  '?status=%E0',
  '?task_detail_status=Fail&target=%',
  '?a=1&a=2',
  '?%=%',
];

const TOKENS = [
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'valid',
  'none',
  'empty',
  'garbage',
  'other project',
  'long',
] as const;
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/jsonx',
  'multipart/form-data; boundary=x',
  '',
  undefined,
];

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  kind: string;
  token: (typeof TOKENS)[number];
}

const generate = (r: Rng): FuzzRequest => {
  const route = r.pick(ROUTES);
  let method = r.chance(0.04) ? r.pick(['PATCH', 'OPTIONS', 'HEAD', 'GET', 'DELETE', 'PUT', 'POST']) : route.method;
  let path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => paramValue(r, name));
  if (r.chance(0.04))
    path = r.pick([
      `${path}/`,
      path.replace('/v5/', '//v5/'),
      `${path}/extra`,
      '/',
      '/v5/iot',
      `/v5/iot/@@project@@/${r.pick(BAD_SEGMENTS)}`,
    ]);
  path += r.pick(QUERIES);
  if (method === 'HEAD') method = r.chance(0.5) ? 'HEAD' : method;
  const token = r.pick(TOKENS);
  const headers: Record<string, string> = {};
  const body = bodyFor(r, method, route.path);
  const type = r.pick(CONTENT_TYPES);
  if (body && type !== undefined) headers['Content-Type'] = type;
  if (r.chance(0.05)) headers['X-Junk'] = 'x'.repeat(r.pick([10, 4_000]));
  return { method, path, headers, body: body?.text, kind: body?.kind ?? 'no body', token };
};

// ---- sending

export interface FuzzFailure {
  request: string;
  status: number | 'no answer';
  answer: string;
}

export interface FuzzResult {
  counts: Record<string, number>;
  failures: FuzzFailure[];
}

/** Registers devices (two echoing, one silent, the rest offline) and a few batch tasks for the requests to name. */
const prepare = async (runtime: Runtime) => {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${runtime.httpUrl}/v5/iot/${runtime.project}${path}`, {
      method,
      headers: { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as Record<string, string>;
  };
  await call('POST', '/products', {
    product_id: 'prod',
    name: 'fuzz',
    device_type: 'Fuzz',
    protocol_type: 'MQTT',
    service_capabilities: FUZZ_MODEL,
  });
  const devices: string[] = [];
  for (let i = 0; i < DEVICES; i++)
    devices.push(
      (
        await call('POST', '/devices', {
          node_id: `fuzz${i}-${Date.now()}`,
          product_id: 'prod',
          auth_info: { secret: 'secret-1234' },
        })
      ).device_id!,
    );
  const port = Number(new URL(runtime.mqttUrl).port);
  const online: SimulatedDevice[] = await Promise.all(
    devices.slice(0, 3).map((deviceId, i) =>
      connectDevice({
        deviceId,
        secret: 'secret-1234',
        port,
        root: runtime.topicRoot,
        reply: i < 2 ? 'echo' : 'silent',
      }),
    ),
  );
  const tasks: string[] = [];
  for (let i = 0; i < TASKS; i++)
    tasks.push(
      (
        await call('POST', '/batchtasks', {
          task_name: 'fuzz',
          task_type: i % 2 ? 'createMessages' : 'createCommands',
          targets: devices.slice(i),
          document: i % 2 ? { message: 'hi' } : { paras: {} },
        })
      ).task_id!,
    );
  const rules: string[] = [];
  const actions: string[] = [];
  for (let i = 0; i < RULES; i++) {
    rules.push(
      (await call('POST', '/routing-rule/rules', { subject: { resource: 'device.status', event: 'update' } })).rule_id!,
    );
    const http = { url: 'http://127.0.0.1:9/push' };
    actions.push(
      (
        await call('POST', '/routing-rule/actions', {
          rule_id: rules[i],
          channel: 'HTTP_FORWARDING',
          channel_detail: { http_forwarding: http },
        })
      ).action_id!,
    );
  }
  const { token: otherToken } = await createApiToken(runtime.deps, ['other'], 'fuzz-other');
  return { devices, tasks, rules, actions, otherToken, close: () => Promise.all(online.map((d) => d.close())) };
};

const describe = (q: FuzzRequest) => {
  const body = q.body === undefined ? '' : ` body(${q.kind}, ${q.body.length} bytes)=${String(q.body).slice(0, 200)}`;
  return `${q.method} ${q.path} token=${q.token} ${JSON.stringify(q.headers).slice(0, 200)}${body}`;
};

/** Sends `count` requests generated from `seed` to a running runtime, `concurrency` at a time. */
export const runFuzz = async (
  runtime: Runtime,
  opts: { seed: number; count: number; concurrency: number },
): Promise<FuzzResult> => {
  const r = prng(opts.seed);
  const requests = Array.from({ length: opts.count }, () => generate(r));
  const setup = await prepare(runtime);
  const tokens: Record<FuzzRequest['token'], string | undefined> = {
    valid: runtime.token,
    none: undefined,
    empty: '',
    garbage: 'dlk_not-a-token',
    'other project': setup.otherToken,
    long: `dlk_${'x'.repeat(8_000)}`,
  };
  const resolve = (text: string) =>
    text
      .replaceAll('@@project@@', runtime.project)
      .replace(/@@device(\d+)@@/g, (_m, i: string) => setup.devices[Number(i)]!)
      .replace(/@@task(\d+)@@/g, (_m, i: string) => setup.tasks[Number(i)]!)
      .replace(/@@rule(\d+)@@/g, (_m, i: string) => setup.rules[Number(i)]!)
      .replace(/@@action(\d+)@@/g, (_m, i: string) => setup.actions[Number(i)]!);
  const { hostname, port } = new URL(runtime.httpUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const counts: Record<string, number> = {};
  const failures: FuzzFailure[] = [];

  const send = (q: FuzzRequest) =>
    new Promise<{ status: number | 'no answer' | 'connection error'; answer: string }>((done) => {
      const token = tokens[q.token];
      const body = typeof q.body === 'string' ? Buffer.from(resolve(q.body)) : q.body;
      const req = request({
        host: hostname,
        port,
        method: q.method,
        path: resolve(q.path),
        agent,
        headers: {
          ...q.headers,
          ...(token !== undefined ? { 'X-Auth-Token': token } : {}),
          ...(body ? { 'Content-Length': body.length } : {}),
        },
        // The longest legitimate wait is a sync command's (1 s here); anything near this is a hang.
        timeout: 35_000,
      });
      req.on('timeout', () => {
        req.destroy();
        done({ status: 'no answer', answer: 'no answer within 35 s' });
      });
      req.on('error', (e) => done({ status: 'connection error', answer: e.message }));
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text.length < 2_000 ? (text += d.toString()) : undefined));
        res.on('end', () => done({ status: res.statusCode!, answer: text }));
        res.on('error', (e) => done({ status: 'connection error', answer: e.message }));
      });
      req.end(body);
    });

  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const q = requests[next++]!;
      const { status, answer } = await send(q);
      counts[status] = (counts[status] ?? 0) + 1;
      if (status === 'no answer' || (typeof status === 'number' && status >= 500))
        failures.push({ request: describe(q), status, answer });
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
    await setup.close();
  }
  return { counts, failures };
};

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  const opts = { seed: Number(values.seed), count: Number(values.count), concurrency: Number(values.concurrency) };
  const runtime = await startRuntime(ephemeralSettings({ commandTimeoutMs: 1_000, logLevel: 'ERROR' }));
  let result: FuzzResult;
  try {
    console.log(
      `fuzz: ${opts.count} requests, seed ${opts.seed}, ${opts.concurrency} in flight, against ${runtime.httpUrl}`,
    );
    result = await runFuzz(runtime, opts);
  } finally {
    await runtime.stop();
  }
  for (const f of result.failures) console.log(`\n${f.status} ${f.request}\n  -> ${f.answer.slice(0, 500)}`);
  const counts = Object.entries(result.counts).sort(([a], [b]) => a.localeCompare(b));
  console.log(`\nby status: ${counts.map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  console.log(
    result.failures.length
      ? `${result.failures.length} requests got a 5xx or no answer`
      : 'no 5xx, every request answered',
  );
  process.exitCode = result.failures.length ? 1 : 0;
};
