import { parseArgs } from 'node:util';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import type { CallOrder, CallReport } from './callers.ts';
import type { FleetConnected, FleetOrder } from './fleet.ts';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { signedRequestCheck } from '../shared/http/signed-request-check.ts';
import { accessKeyRecord } from '../shared/use-cases/authorize-api-token.ts';
import { createAccessKey } from '../shared/use-cases/manage-api-tokens.ts';
import { forkTs } from './ipc.ts';
import { rawRoundTrips, type Phase } from './raw-round-trips.ts';
import {
  api,
  askOk,
  capRun,
  cpuMsSince,
  cpuProfiler,
  otherCpu,
  met,
  ms,
  printTable,
  waitQueueIdle,
} from './support.ts';

/**
 * Synchronous commands end to end against the floor they stand on. The runtime runs in this process with
 * its default settings; the devices (tools/simulated-device.ts, answering at once with an echo) run in a
 * child process, and the API callers (fetch, keep-alive) in another, so neither's CPU is the runtime's.
 *
 * The baseline, "raw MQTT round trip" (bench/raw-round-trips.ts), is the part of a command no implementation
 * can skip: a server-side publish through the runtime's own aedes to the same device and its answer back,
 * with the IoT rules detached (they would add the response rule's DynamoDB write to the "floor", about a
 * quarter of an end-to-end command's CPU). `--keep-rules` measures it with them attached.
 *
 * POST /commands adds, per command: the HTTP request and the API Gateway stand-in (authorizer answer
 * cached), the device read, the request item written, the publish through the iot-data HTTP endpoint, the
 * response rule's function writing the answer, and the handler polling the request item until it is there.
 *
 * `--signed` pairs each API phase with the same calls signed by Huawei's SDK core (SDK-HMAC-SHA256, an access
 * key of the project) instead of sending the token, run right after it (latency side by side). What a
 * signature costs in CPU (CONTRACT.md §6; the aim is at most 0.3 ms more) is then measured in rounds of
 * token, signed, signed, token (`--signed-calls` each, at the same concurrency), so a drift of the machine's
 * speed during the run weighs on both sides alike; the difference of the two means is reported.
 */

const USAGE =
  'npm run bench -- commands [--devices 50] [--sequential 500] [--concurrent 5000] [--concurrency 50] ' +
  '[--warmup 200] [--keep-rules] [--signed] [--signed-calls 2000] [--signed-rounds 2] [--cpu-prof DIR]';

// The aims.
const AIM = { p50OverRawMs: 5, commandsPerSecond: 500, signedCpuMsOverToken: 0.3 };
const WHOLE_RUN_MS = 10 * 60_000;

/**
 * The function middleware's whole check of one signed command, in this process with nothing else running:
 * CPU ms per request, over `n` checks of one request signed by the SDK core (its key already read, as the
 * authorizer leaves it).
 */
const signatureCheckCpuMs = async (runtime: Runtime, ak: string, sk: string, n: number): Promise<number> => {
  const path = `/v5/iot/${runtime.project}/devices/cmd-0/commands`;
  const data = { service_id: 'Bench', command_name: 'ping', paras: { i: 1 } };
  const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(runtime.project);
  const request = {
    method: 'POST',
    endpoint: `${runtime.httpUrl}${path}`,
    headers: { 'Content-Type': 'application/json', 'X-Project-Id': runtime.project },
    queryParams: {},
    data,
  };
  const headers = AKSKSigner.sign(request as never, credentials as never) as Record<string, string>;
  const event = {
    resource: '/v5/iot/{project_id}/devices/{device_id}/commands',
    path,
    httpMethod: 'POST',
    headers,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { project_id: runtime.project, device_id: 'cmd-0' },
    body: JSON.stringify(data),
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', authorizer: { principalId: ak, tokenId: ak, projects: runtime.project } },
  } as unknown as APIGatewayProxyEvent;
  await accessKeyRecord(runtime.deps, ak);
  const check = signedRequestCheck(runtime.deps).before!;
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await check({ event } as never);
  return cpuMsSince(cpu) / n;
};

const perSecond = (p: Phase) => p.n / (p.elapsedMs / 1000);
const failures = (p: Phase) => p.n - (p.outcomes.response ?? 0);

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      devices: { type: 'string', default: '50' },
      sequential: { type: 'string', default: '500' },
      concurrent: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '200' },
      'keep-rules': { type: 'boolean', default: false },
      signed: { type: 'boolean', default: false },
      'signed-calls': { type: 'string', default: '2000' },
      'signed-rounds': { type: 'string', default: '2' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const [count, sequential, concurrent, concurrency, warmup] = [
    values.devices,
    values.sequential,
    values.concurrent,
    values.concurrency,
    values.warmup,
  ].map(Number) as [number, number, number, number, number];
  if (
    ![count, sequential, concurrent, concurrency].every((v) => Number.isInteger(v) && v >= 1) ||
    !(warmup >= 0) ||
    count > 5_000 ||
    concurrent > 100_000
  )
    throw new Error(USAGE);
  const keepRules = values['keep-rules'];
  capRun('commands', WHOLE_RUN_MS);
  console.log(
    `commands: ${count} devices (echo), ${sequential} sequential then ${concurrent} with ${concurrency} in flight, ` +
      `${warmup} warm-up, IoT rules ${keepRules ? 'attached' : 'detached'} during the baseline, ` +
      `node ${process.version}`,
  );

  const runtime = await startRuntime(ephemeralSettings());
  const fleet = forkTs(new URL('./fleet.ts', import.meta.url));
  const callers = forkTs(new URL('./callers.ts', import.meta.url));
  try {
    const client = api(runtime);
    const devices = await client.addDevices(count, 'cmd-');
    const deviceIds = devices.map((d) => d.deviceId);
    const { hostname, port } = new URL(runtime.mqttUrl);
    const connect: FleetOrder = {
      type: 'connect',
      host: hostname,
      port: Number(port),
      root: runtime.topicRoot,
      devices,
      concurrency: 50,
      reply: 'echo',
    };
    const connected = await askOk<FleetConnected>(fleet.ask(connect, 120_000));
    if (connected.failed)
      throw new Error(`${connected.failed} devices failed to connect: ${connected.firstErrors.join('; ')}`);
    // A command to a device whose connect is not yet recorded is refused as offline.
    await waitQueueIdle(runtime, 'presence', 60_000);
    console.log(`created and connected ${count} devices (not timed)`);

    const raw = await rawRoundTrips(runtime, deviceIds);
    const key = values.signed ? await createAccessKey(runtime.deps, [runtime.project], 'bench') : undefined;
    const accessKey = key && { ak: key.tokenId, sk: key.secretKey!, project: runtime.project };
    const endToEnd = async (n: number, inFlight: number, signed = false): Promise<Phase> => {
      const calls = Array.from({ length: n }, (_, i) => ({
        path: `/${deviceIds[i % deviceIds.length]}/commands`,
        body: { service_id: 'Bench', command_name: 'ping', paras: { i } },
      }));
      const order: CallOrder = {
        type: 'call',
        base: client.base,
        token: runtime.token,
        ...(signed ? { accessKey } : {}),
        method: 'POST',
        calls,
        concurrency: inFlight,
        kind: 'command',
      };
      const cpu = process.cpuUsage();
      const r = await askOk<CallReport>(callers.ask(order, 300_000));
      return {
        n,
        concurrency: inFlight,
        latencyMs: r.latencyMs,
        elapsedMs: r.elapsedMs,
        runtimeCpuMsPer: cpuMsSince(cpu) / n,
        outcomes: r.outcomes,
        firstErrors: r.firstErrors,
      };
    };

    if (warmup) {
      await raw.run(warmup, concurrency, keepRules);
      await endToEnd(warmup, concurrency);
      if (accessKey) await endToEnd(warmup, concurrency, true);
    }
    const phases: [string, Phase][] = [];
    const add = async (name: string, p: Promise<Phase>) => {
      phases.push([name, await p]);
      const [, last] = phases.at(-1)!;
      console.log(`  ${name}: ${last.n} in ${(last.elapsedMs / 1000).toFixed(2)} s`);
    };
    const cpuProfiled = cpuProfiler(values['cpu-prof']);
    const others = otherCpu();
    const profiled = <T>(name: string, work: () => Promise<T>) => others.during(() => cpuProfiled(name, work));
    await add(
      'raw MQTT, 1 in flight',
      profiled('commands-raw-1', () => raw.run(sequential, 1, keepRules)),
    );
    await add(
      'POST /commands, 1 in flight',
      profiled('commands-api-1', () => endToEnd(sequential, 1)),
    );
    if (accessKey)
      await add(
        'signed, 1 in flight',
        profiled('commands-signed-1', () => endToEnd(sequential, 1, true)),
      );
    await add(
      `raw MQTT, ${concurrency} in flight`,
      profiled(`commands-raw-${concurrency}`, () => raw.run(concurrent, concurrency, keepRules)),
    );
    await add(
      `POST /commands, ${concurrency} in flight`,
      profiled(`commands-api-${concurrency}`, () => endToEnd(concurrent, concurrency)),
    );
    if (accessKey)
      await add(
        `signed, ${concurrency} in flight`,
        profiled(`commands-signed-${concurrency}`, () => endToEnd(concurrent, concurrency, true)),
      );
    await raw.stop();

    printTable(
      phases.map(([name]) => name),
      [
        ['commands', ...phases.map(([, p]) => `${p.n}`)],
        ['latency p50 (ms)', ...phases.map(([, p]) => ms(p.latencyMs.p50, 2))],
        ['latency p99 (ms)', ...phases.map(([, p]) => ms(p.latencyMs.p99, 2))],
        ['latency max (ms)', ...phases.map(([, p]) => ms(p.latencyMs.max, 1))],
        ['commands / s', ...phases.map(([, p]) => perSecond(p).toFixed(0))],
        ['runtime process CPU per command (ms)', ...phases.map(([, p]) => p.runtimeCpuMsPer.toFixed(2))],
        ['not answered', ...phases.map(([, p]) => `${failures(p)}`)],
      ],
    );
    for (const [name, p] of phases)
      if (failures(p)) console.log(`${name}: ${JSON.stringify(p.outcomes)} ${p.firstErrors.join('; ')}`);

    const phase = (name: string) => phases.find(([n]) => n === name)?.[1];
    const [rawSeq, e2eSeq, rawConc, e2eConc] = [
      'raw MQTT, 1 in flight',
      'POST /commands, 1 in flight',
      `raw MQTT, ${concurrency} in flight`,
      `POST /commands, ${concurrency} in flight`,
    ].map((n) => phase(n)!) as [Phase, Phase, Phase, Phase];
    const compare = (label: string, r: Phase, e: Phase) =>
      console.log(
        `${label}: end to end / raw p50 ${ms(e.latencyMs.p50, 2)} / ${ms(r.latencyMs.p50, 2)} ms ` +
          `(x${(e.latencyMs.p50 / r.latencyMs.p50).toFixed(1)}, +${ms(e.latencyMs.p50 - r.latencyMs.p50, 2)} ms); ` +
          `p99 ${ms(e.latencyMs.p99, 2)} / ${ms(r.latencyMs.p99, 2)} ms ` +
          `(x${(e.latencyMs.p99 / r.latencyMs.p99).toFixed(1)}, +${ms(e.latencyMs.p99 - r.latencyMs.p99, 2)} ms)`,
      );
    console.log('');
    compare('1 in flight', rawSeq, e2eSeq);
    compare(`${concurrency} in flight`, rawConc, e2eConc);
    const limit = rawSeq.latencyMs.p50 + AIM.p50OverRawMs;
    console.log(
      `\naim p50 end to end <= raw p50 + ${AIM.p50OverRawMs} ms (1 in flight): ${met(e2eSeq.latencyMs.p50 <= limit)} ` +
        `(${ms(e2eSeq.latencyMs.p50, 2)} vs ${ms(limit, 2)} ms); ` +
        `aim >= ${AIM.commandsPerSecond} commands/s at ${concurrency} in flight: ` +
        `${met(perSecond(e2eConc) >= AIM.commandsPerSecond)} ` +
        `(${perSecond(e2eConc).toFixed(0)})`,
    );
    if (accessKey) {
      const calls = Number(values['signed-calls']);
      const rounds = Number(values['signed-rounds']);
      const cpu = { token: [] as number[], signed: [] as number[] };
      for (let r = 0; r < rounds; r++)
        for (const signed of [false, true, true, false])
          cpu[signed ? 'signed' : 'token'].push((await endToEnd(calls, concurrency, signed)).runtimeCpuMsPer);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const extra = mean(cpu.signed) - mean(cpu.token);
      const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
      console.log(
        `signed vs token, ${rounds} rounds of token-signed-signed-token, ` +
          `${calls} calls each at ${concurrency} in flight: ` +
          `runtime CPU per command signed ${list(cpu.signed)}, token ${list(cpu.token)} ms; ` +
          `means ${mean(cpu.signed).toFixed(2)} / ${mean(cpu.token).toFixed(2)} ms ` +
          `(${extra >= 0 ? '+' : ''}${extra.toFixed(2)} ms); ` +
          `aim <= +${AIM.signedCpuMsOverToken} ms: ${met(extra <= AIM.signedCpuMsOverToken)}`,
      );
    }
    if (key) {
      const checkMs = await signatureCheckCpuMs(runtime, key.tokenId, key.secretKey!, 10_000);
      console.log(
        `the middleware's signature check alone (10,000 checks in this process): ${checkMs.toFixed(3)} ms of CPU each`,
      );
    }
    console.log(others.report());
    process.exitCode = phases.some(([, p]) => failures(p)) ? 1 : 0;
  } finally {
    await callers.stop({ type: 'close' }, 10_000);
    await fleet.stop({ type: 'close' }, 60_000);
    await runtime.stop();
  }
  process.exit();
};
