import { parseArgs } from 'node:util';
import type { CallRecord, InvocationRecord } from '../local/call-meter.ts';
import { countLogBytes, currentScope } from '../local/call-meter.ts';
import { startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { pollDelays } from '../shared/await-response.ts';
import { costProbe, DEVICE_DELAY_MS, pathPartOf, type IotCounts, type Measured } from './cost-operations.ts';
import { AWS, IOT_METERING_SOURCE, LAMBDA_MEMORY_GB, LATENCY_MS, LOG_LINES, PEERS, type Price } from './prices.ts';
import { capRun, printTable } from './support.ts';

/**
 * What each operation costs on AWS and how long a sync one would take there. The local runtime runs the
 * handlers the stack deploys; local/call-meter.ts counts their AWS calls (and DynamoDB's consumed capacity),
 * the broker's events give IoT Core's meter. Counts are measured; prices (bench/prices.ts) and latencies are
 * not: Lambda durations are modelled from the calls an invocation makes, since the local wall clock says
 * nothing about Lambda's. Runs at the stack's log level (INFO) and counts the bytes the functions log.
 */

const USAGE = 'npm run bench -- cost [--runs 20] [--batch 100] [--pending 10]';

type Op = { name: string; runs: number; total: Measured; sync: boolean; perOp: number };

const zeroIot = (): IotCounts => ({
  deviceUnits: 0,
  apiUnits: 0,
  lifecycleUnits: 0,
  deliveries: 0,
  rulesTriggered: 0,
  connects: 0,
  subscribes: 0,
});
const emptyMeasured = (): Measured => ({ calls: [], invocations: [], iot: zeroIot() });
const add = (a: Measured, b: Measured): Measured => ({
  calls: [...a.calls, ...b.calls],
  invocations: [...a.invocations, ...b.invocations],
  iot: Object.fromEntries(
    Object.keys(a.iot).map((k) => [k, a.iot[k as keyof IotCounts] + b.iot[k as keyof IotCounts]]),
  ) as unknown as IotCounts,
});

const callLatency = (c: Pick<CallRecord, 'service' | 'operation'>) => {
  if (c.service === 'DynamoDB') {
    if (c.operation.startsWith('Batch') || c.operation.startsWith('Transact')) return LATENCY_MS.dynamoBatch;
    if (c.operation === 'Query' || c.operation === 'Scan') return LATENCY_MS.dynamoQuery;
    return c.operation === 'GetItem' ? LATENCY_MS.dynamoRead : LATENCY_MS.dynamoWrite;
  }
  if (c.service === 'IoTDataPlane') return LATENCY_MS.iotPublish;
  if (c.service === 'SQS') return LATENCY_MS.sqsSend;
  if (c.service === 'SFN') return LATENCY_MS.sfnStart;
  return 10;
};

/**
 * A sync request's wait on AWS: the answer is stored `answerMs` after the publish returned; the waiter
 * (shared/await-response.ts) sleeps 2, 4, 8 … 100 ms between reads, each read taking a batch read's time.
 * Returns how long after the publish the waiter has the answer, and how many reads it made.
 */
export const modelledWait = (answerMs: number) => {
  let t = 0;
  let reads = 0;
  for (const delay of pollDelays()) {
    t += delay;
    const started = t;
    t += LATENCY_MS.dynamoBatch;
    reads++;
    if (started >= answerMs) return { waitMs: t, reads };
  }
  throw new Error('unreachable');
};

/** From the publish's return to the answer's write: delivery, the device's think time, the rule's invoke, its write. */
const answerMs = (deviceMs: number) =>
  LATENCY_MS.iotDelivery +
  deviceMs +
  LATENCY_MS.iotDelivery +
  LATENCY_MS.ruleToLambda +
  LATENCY_MS.lambdaInvoke +
  LATENCY_MS.dynamoWrite;

/**
 * An invocation's billed duration, modelled: its calls one after another (an upper bound where it
 * overlaps them), its own compute, and for a waiter the modelled wait instead of the polls it made here.
 */
const modelledDurationMs = (inv: InvocationRecord, calls: CallRecord[]) => {
  const own = calls.filter((c) => c.invocation === inv.id);
  const waits = own.some((c) => pathPartOf(c) === 'waiting');
  const work = own.filter((c) => pathPartOf(c) !== 'waiting').reduce((s, c) => s + callLatency(c), 0);
  return Math.ceil(LATENCY_MS.lambdaCompute + work + (waits ? modelledWait(answerMs(DEVICE_DELAY_MS)).waitMs : 0));
};

/** The bill of one operation, in USD, per item; from the totals of `runs` runs, `perOp` operations each. */
const bill = (op: Op) => {
  const n = op.runs * op.perOp;
  const { calls, invocations, iot } = op.total;
  const counted = calls.filter((c) => c.fn !== undefined);
  const apiRequests = invocations.filter((i) => i.trigger === 'http').length;
  const gbSeconds = invocations.reduce((s, i) => s + (modelledDurationMs(i, calls) / 1000) * LAMBDA_MEMORY_GB, 0);
  const rcu = counted.reduce((s, c) => s + c.rcu, 0);
  const wcu = counted.reduce((s, c) => s + c.wcu, 0);
  // IoT Core messages: HTTP publishes, deliveries (the PUBLISH sent and the device's PUBACK), device
  // publishes, CONNECT and the device's one SUBSCRIBE (the local broker's own subscription is not IoT
  // Core's), lifecycle events (UNCONFIRMED whether metered).
  const iotMessages = iot.apiUnits + 2 * iot.deliveries + iot.deviceUnits + 2 * iot.connects + iot.lifecycleUnits;
  const ruleActions = iot.rulesTriggered;
  // SQS: the functions' sends, the lifecycle rules' SQS actions, and the event source mapping's receive
  // and delete for each batch it hands a function (its idle long polls are a fixed cost, not per operation).
  // Both lifecycle rules (presence, subscriptions) send to the presence queue (functions/manifest.ts iotRules).
  const lifecycleToQueue = iot.lifecycleUnits;
  const queueBatches = invocations.filter((i) => i.trigger === 'queue').length;
  const sqsRequests = counted.filter((c) => c.service === 'SQS').length + lifecycleToQueue + 2 * queueBatches;
  // Standard workflow transitions: Scheduled, Chunks, Settle, Again, Ended (and the start) + 3 per chunk.
  const executions = counted.filter((c) => c.service === 'SFN' && c.operation === 'StartExecution').length;
  const chunks = invocations.filter((i) => i.fn === 'batch-chunk').length;
  const transitions = executions * 6 + chunks * 3;
  const logBytes =
    invocations.reduce((s, i) => s + i.logBytes, 0) +
    invocations.length * LOG_LINES.lambdaPlatformBytes +
    apiRequests * LOG_LINES.apiAccessBytes;
  const usd = (count: number, price: Price, unit = 1e6) => (count * price.usd) / unit;
  const lines: [string, number][] = [
    ['API Gateway', usd(apiRequests, AWS.apiGatewayRest)],
    ['Lambda requests', usd(invocations.length, AWS.lambdaRequests)],
    ['Lambda GB-s', gbSeconds * AWS.lambdaArmGbSecond.usd],
    ['DynamoDB reads', usd(rcu, AWS.dynamoRead)],
    ['DynamoDB writes', usd(wcu, AWS.dynamoWrite)],
    ['IoT messages', usd(iotMessages, AWS.iotMessages)],
    ['IoT rules + actions', usd(ruleActions, AWS.iotRulesTriggered) + usd(ruleActions, AWS.iotActions)],
    ['SQS', usd(sqsRequests, AWS.sqsRequests)],
    ['Step Functions', usd(transitions, AWS.sfnTransitions)],
    ['CloudWatch Logs', (logBytes / 2 ** 30) * AWS.logsIngestion.usd],
  ];
  const per = (v: number) => v / n;
  return {
    n,
    calls: per(counted.length),
    critical: per(counted.filter((c) => pathPartOf(c) === 'critical').length),
    waiting: per(counted.filter((c) => pathPartOf(c) === 'waiting').length),
    answer: per(counted.filter((c) => pathPartOf(c) === 'answer').length),
    rcu: per(rcu),
    wcu: per(wcu),
    invocations: per(invocations.length),
    gbSeconds: per(gbSeconds),
    iotMessages: per(iotMessages),
    ruleActions: per(ruleActions),
    sqsRequests: per(sqsRequests),
    transitions: per(transitions),
    logBytes: per(logBytes),
    lines: lines.map(([k, v]) => [k, per(v)] as [string, number]),
    usd: per(lines.reduce((s, [, v]) => s + v, 0)),
  };
};

/** The same work on the peers, per operation (USD); undefined where not priced. */
const peerUsd = (name: string) => {
  // Messages each platform would meter: a sync request and its answer 2, a message 1, a month online 0
  // (connections free).
  const messages: Record<string, number> = {
    'sync command': 2,
    'property set': 2,
    'property query': 2,
    'message, online': 1,
    'message, offline then flushed': 1,
    'batch sub-task, command': 2,
    'batch sub-task, message': 1,
    'device online a month': 0,
  };
  const m = messages[name] ?? 0;
  const azurePerMessage = PEERS.azureS1.usdPerUnitMonth / (PEERS.azureS1.messagesPerUnitDay * 30.44);
  return { iotda: m * PEERS.iotdaBasic.usdPerMillionMessages * 1e-6, azure: m * azurePerMessage };
};

const money = (usd: number) => (usd >= 100 ? usd.toFixed(0) : usd >= 1 ? usd.toFixed(2) : usd.toFixed(3));

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string', default: '20' },
      batch: { type: 'string', default: '100' },
      pending: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const [runs, batchSize, pending] = [values.runs, values.batch, values.pending].map(Number) as [
    number,
    number,
    number,
  ];
  if (![runs, batchSize, pending].every((v) => Number.isInteger(v) && v >= 1 && v <= 1000)) throw new Error(USAGE);
  capRun('cost', 20 * 60_000);

  // The functions' log lines are counted (and not shown); anything else is printed as usual.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (!currentScope()) return write(chunk, ...rest);
      countLogBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength);
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }

  const runtime = await startRuntime(ephemeralSettings({ logLevel: 'INFO' }));
  const probe = await costProbe(runtime);
  console.log(
    `cost: ${runs} runs of each operation, batch tasks of ${batchSize} devices, ` +
      `${pending} messages pending per reconnect; device answers in ${DEVICE_DELAY_MS} ms; node ${process.version}`,
  );
  const ops: Op[] = [];
  const repeat = async (name: string, sync: boolean, perOp: number, times: number, once: () => Promise<Measured>) => {
    let total = emptyMeasured();
    for (let i = 0; i < times; i++) total = add(total, await once());
    ops.push({ name, runs: times, total, sync, perOp });
    console.log(`  ${name}: ${times} run(s) measured`);
  };
  try {
    const a = await probe.online();
    // Warm: this runtime's function instances have seen the device, as a busy deployment's mostly have.
    await probe.measure(() => probe.ops.command(a.deviceId));
    await probe.measure(() => probe.ops.propertySet(a.deviceId));
    await probe.measure(() => probe.ops.propertyQuery(a.deviceId));
    await repeat('sync command', true, 1, runs, () => probe.measure(() => probe.ops.command(a.deviceId)));
    await repeat('property set', true, 1, runs, () => probe.measure(() => probe.ops.propertySet(a.deviceId)));
    await repeat('property query', true, 1, runs, () => probe.measure(() => probe.ops.propertyQuery(a.deviceId)));
    await repeat('message, online', false, 1, runs, () => probe.measure(() => probe.ops.messageOnline(a.device)));

    // Messages kept for an offline device: `pending` messages, then its connect; less a connect with none.
    const b = await probe.register();
    const connectOnly = await probe.register();
    const plainConnect = await probe.measure(
      async () => void (await probe.connect(connectOnly.deviceId, connectOnly.secret)),
    );
    let flushed = emptyMeasured();
    const rounds = Math.max(1, Math.ceil(runs / pending));
    for (let i = 0; i < rounds; i++) {
      let device: Awaited<ReturnType<typeof probe.ops.messagesOffline>> | undefined;
      flushed = add(
        flushed,
        await probe.measure(async () => void (device = await probe.ops.messagesOffline(b.deviceId, b.secret, pending))),
      );
      await probe.close(device!);
    }
    ops.push({ name: 'message, offline then flushed', runs: rounds, total: flushed, sync: false, perOp: pending });
    const connectTotal: Measured = { ...emptyMeasured() };
    for (let i = 0; i < rounds; i++) Object.assign(connectTotal, add(connectTotal, plainConnect));
    console.log(`  message, offline then flushed: ${rounds} round(s) of ${pending}, less a plain connect`);

    const targets = await Promise.all(Array.from({ length: batchSize }, () => probe.online()));
    const ids = targets.map((t) => t.deviceId);
    const batchRuns = Math.max(1, Math.ceil(runs / batchSize));
    await repeat('batch sub-task, command', false, batchSize, batchRuns, () =>
      probe.measure(() => probe.ops.batchCommands(ids)),
    );
    await repeat('batch sub-task, message', false, batchSize, batchRuns, () =>
      probe.measure(() => probe.ops.batchMessages(ids)),
    );

    let device = a.device;
    await repeat('device online a month', false, 1, Math.min(runs, 5), () =>
      probe.measure(async () => void (device = await probe.ops.reconnect(device, a.secret))),
    );

    // Bills; the offline message less its plain connect, the month 30 reconnects and its connection minutes.
    const bills = ops.map((op) => ({ op, b: bill(op) }));
    const offline = bills.find((x) => x.op.name === 'message, offline then flushed')!;
    const connectBill = bill({ name: 'connect', runs: rounds, total: connectTotal, sync: false, perOp: pending });
    for (const k of Object.keys(connectBill) as (keyof typeof connectBill)[])
      if (typeof connectBill[k] === 'number' && k !== 'n') (offline.b[k] as number) -= connectBill[k] as number;
    offline.b.lines = offline.b.lines.map(([k, v], i) => [k, v - connectBill.lines[i]![1]]);
    const month = bills.find((x) => x.op.name === 'device online a month')!;
    const minutes = 30 * 24 * 60;
    for (const k of Object.keys(month.b) as (keyof typeof month.b)[])
      if (typeof month.b[k] === 'number' && k !== 'n') (month.b[k] as number) *= 30;
    month.b.lines = [
      ...month.b.lines.map(([k, v]) => [k, v * 30] as [string, number]),
      ['IoT connection minutes', (minutes * AWS.iotConnectionMinutes.usd) / 1e6],
    ];
    month.b.usd += (minutes * AWS.iotConnectionMinutes.usd) / 1e6;

    const f = (v: number, d = 2) => v.toFixed(d);
    printTable(
      bills.map((x) => x.op.name),
      [
        ['AWS calls (all functions)', ...bills.map((x) => f(x.b.calls))],
        ['  on the caller path, before the answer', ...bills.map((x) => f(x.b.critical))],
        ['  waiter polls (as many as the answer time makes)', ...bills.map((x) => f(x.b.waiting))],
        ['  device-response function', ...bills.map((x) => f(x.b.answer))],
        ['DynamoDB RCU / WCU', ...bills.map((x) => `${f(x.b.rcu)} / ${f(x.b.wcu)}`)],
        ['Lambda invocations', ...bills.map((x) => f(x.b.invocations))],
        ['Lambda GB-s (modelled, 256 MB)', ...bills.map((x) => x.b.gbSeconds.toFixed(4))],
        ['IoT messages (5 KB units)', ...bills.map((x) => f(x.b.iotMessages))],
        ['IoT rules triggered (= actions)', ...bills.map((x) => f(x.b.ruleActions))],
        ['SQS requests', ...bills.map((x) => f(x.b.sqsRequests))],
        ['Step Functions transitions', ...bills.map((x) => f(x.b.transitions, 2))],
        ['CloudWatch Logs bytes', ...bills.map((x) => f(x.b.logBytes, 0))],
        ...bills[0]!.b.lines.map(
          ([k], i) =>
            [`  USD per million: ${k}`, ...bills.map((x) => money((x.b.lines[i]?.[1] ?? 0) * 1e6))] as [
              string,
              ...string[],
            ],
        ),
        ...(month.b.lines.length > bills[0]!.b.lines.length
          ? [
              [
                '  USD per million: IoT connection minutes',
                ...bills.map((x) => (x === month ? money(month.b.lines.at(-1)![1] * 1e6) : '-')),
              ] as [string, ...string[]],
            ]
          : []),
        ['USD per million, AWS (this stack)', ...bills.map((x) => money(x.b.usd * 1e6))],
        ['USD per million, IoTDA basic (UNCONFIRMED)', ...bills.map((x) => money(peerUsd(x.op.name).iotda * 1e6))],
        ['USD per million, Azure IoT Hub S1 (UNCONFIRMED)', ...bills.map((x) => money(peerUsd(x.op.name).azure * 1e6))],
        ['USD per million, AWS IoT DM commands', ...bills.map(() => 'not priced')],
      ],
    );
    console.log(
      '\n"device online a month" is per device-month: 30 reconnects and 43,200 connection minutes; ' +
        'the others per operation.',
    );
    console.log('Prices (bench/prices.ts):');
    for (const [k, p] of Object.entries(AWS)) console.log(`  ${k}: ${p.usd} USD per ${p.per}; ${p.source}; ${p.asOf}`);
    console.log(`  IoT Core metering rules: ${IOT_METERING_SOURCE}`);
    console.log(
      `  IoTDA basic: ${PEERS.iotdaBasic.usdPerMillionMessages.toFixed(3)} USD per million messages; ` +
        PEERS.iotdaBasic.source,
    );
    console.log(
      `  Azure IoT Hub S1: ${PEERS.azureS1.usdPerUnitMonth} USD a unit-month, ` +
        `${PEERS.azureS1.messagesPerUnitDay} messages a day; ${PEERS.azureS1.source}`,
    );
    console.log(
      '  AWS IoT Device Management commands: not priced ' +
        `(no stored copy of ${PEERS.awsDeviceManagementCommands.source})`,
    );

    // The modelled latency of each sync operation on AWS.
    console.log(
      `\nModelled AWS latency of a sync request (device answers in ${DEVICE_DELAY_MS} ms); ` +
        `per call (bench/prices.ts LATENCY_MS): ${JSON.stringify(LATENCY_MS)}`,
    );
    const answer = answerMs(DEVICE_DELAY_MS);
    const wait = modelledWait(answer);
    const invokes = 2 * (LATENCY_MS.lambdaInvoke + LATENCY_MS.lambdaCompute);
    for (const x of bills.filter((y) => y.op.sync)) {
      const critical = x.op.total.calls.filter((c) => pathPartOf(c) === 'critical');
      const perRun = critical.reduce((s, c) => s + callLatency(c), 0) / x.op.runs;
      const callsPerRun = critical.length / x.op.runs;
      const total = LATENCY_MS.apiGateway + invokes + perRun + wait.waitMs;
      console.log(
        `  ${x.op.name}: ${total.toFixed(0)} ms = API Gateway ${LATENCY_MS.apiGateway} + ` +
          `authorizer and handler invokes ${invokes} + ` +
          `${callsPerRun.toFixed(1)} calls before the answer ${perRun.toFixed(0)} + ` +
          `wait after the publish ${wait.waitMs} ` +
          `(answer stored at ${answer} ms, ${wait.reads} polls, the last ${wait.waitMs - answer} ms past it: ` +
          'the poll granularity)',
      );
    }
  } finally {
    await probe.stop();
    await runtime.stop();
  }
  process.exit();
};
