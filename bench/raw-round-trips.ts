import type { AedesPublishPacket } from 'aedes';
import { randomUUID } from 'node:crypto';
import type { Runtime } from '../local/runtime.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { cpuMsSince, spread, type Spread } from './support.ts';

/**
 * The raw MQTT round trip, the baseline of bench/commands.ts and bench/batch.ts: the part of a command no
 * implementation can skip. The request is published server-side (broker.publish, QoS 1) on the device's
 * `sys/commands/request_id={id}` topic through the runtime's own aedes, to the simulated device, which
 * answers (QoS 1) on `.../sys/commands/response/request_id={id}`, back through aedes (sign-in ACL check
 * included) to a server-side subscription in this process: no HTTP, no DynamoDB, no iot-data hop, no polling.
 * The broker's IoT rules (its 'publish' listeners) are detached while it runs unless `keepRules`: otherwise
 * every answer would also run the response rule's function (a DynamoDB write that fails, no request item
 * existing), off the timed path but on the same thread, and the floor would carry part of a command's CPU.
 */

export interface Phase {
  n: number;
  concurrency: number;
  latencyMs: Spread;
  elapsedMs: number;
  /** CPU of this process (the runtime, and for the raw phase the publishing side too) per command. */
  runtimeCpuMsPer: number;
  /** `response` for an answered command, else the error code or failure. */
  outcomes: Record<string, number>;
  firstErrors: string[];
}

/** Round trips through the broker only: publish the request server-side, time until the answer arrives. */
export const rawRoundTrips = async (runtime: Runtime, deviceIds: string[]) => {
  const root = runtime.topicRoot;
  const waiting = new Map<string, () => void>();
  const deliver = (packet: AedesPublishPacket, cb: () => void) => {
    const requestId = packet.topic.slice(packet.topic.lastIndexOf('request_id=') + 'request_id='.length);
    waiting.get(requestId)?.();
    cb();
  };
  const filter = `${root}/devices/+/sys/commands/response/+`;
  await new Promise<void>((resolve) => runtime.broker.subscribe(filter, deliver, resolve));

  const one = (deviceId: string, i: number) =>
    new Promise<void>((resolve, reject) => {
      const requestId = randomUUID();
      const timer = setTimeout(() => {
        waiting.delete(requestId);
        reject(new Error(`no answer from ${deviceId} within 20 s`));
      }, 20_000);
      waiting.set(requestId, () => {
        clearTimeout(timer);
        waiting.delete(requestId);
        resolve();
      });
      // The payload create-command publishes for the body the callers send.
      const payload = Buffer.from(JSON.stringify({ service_id: 'Bench', command_name: 'ping', paras: { i } }));
      const topic = `${root}/devices/${deviceId}/sys/commands/request_id=${requestId}`;
      runtime.broker.publish(
        { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false },
        (e) => e && reject(e),
      );
    });

  const run = async (n: number, concurrency: number, keepRules: boolean): Promise<Phase> => {
    const rules = keepRules ? [] : runtime.broker.listeners('publish');
    for (const l of rules) runtime.broker.off('publish', l as (...a: unknown[]) => void);
    try {
      return await measure(n, concurrency);
    } finally {
      for (const l of rules) runtime.broker.on('publish', l as (...a: unknown[]) => void);
    }
  };
  const measure = async (n: number, concurrency: number): Promise<Phase> => {
    const latencies: number[] = [];
    const outcomes: Record<string, number> = {};
    const firstErrors: string[] = [];
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      concurrency,
      async (i) => {
        const t = performance.now();
        try {
          await one(deviceIds[i % deviceIds.length]!, i);
          latencies.push(performance.now() - t);
          outcomes.response = (outcomes.response ?? 0) + 1;
        } catch (e) {
          outcomes.failed = (outcomes.failed ?? 0) + 1;
          if (firstErrors.length < 3) firstErrors.push((e as Error).message);
        }
      },
    );
    const elapsedMs = performance.now() - t0;
    return {
      n,
      concurrency,
      latencyMs: spread(latencies),
      elapsedMs,
      runtimeCpuMsPer: cpuMsSince(cpu) / n,
      outcomes,
      firstErrors,
    };
  };
  return {
    run,
    stop: () => new Promise<void>((resolve) => runtime.broker.unsubscribe(filter, deliver, resolve)),
  };
};
