import { onTestFinished } from 'vitest';
import { connectDevice, type DeviceOptions, type SimulatedDevice } from '../../tools/simulated-device.ts';
import type { Runtime } from '../../local/runtime.ts';
import { apiClient, registerDevice, waitFor, waitForStatus } from './runtime.ts';

/** Helpers for batch task tests on one test runtime. */
export const batchClient = (runtime: Runtime) => {
  const api = apiClient(runtime);
  const tasks = `${api.base}/batchtasks`;
  const command = { service_id: 'Valve', command_name: 'open', paras: { level: 3 } };
  const FINAL = ['Success', 'Fail', 'PartialSuccess', 'Stopped'];

  /** A registered device, connected and seen ONLINE; closed when the test ends. */
  const onlineDevice = async (options: Partial<DeviceOptions> = {}): Promise<SimulatedDevice> => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectDevice({
      deviceId,
      secret,
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
      ...options,
    });
    onTestFinished(() => device.close());
    await waitForStatus(runtime, deviceId, 'ONLINE');
    return device;
  };

  const createTask = (targets: string[], extra: Record<string, unknown> = {}) =>
    api.call('POST', tasks, {
      task_name: 'open_valves',
      task_type: 'createCommands',
      targets,
      document: command,
      ...extra,
    });

  const showTask = async (taskId: string, query = '') =>
    (await api.call('GET', `${tasks}/${taskId}${query ? `?${query}` : ''}`)).body;

  /** Waits until the task shows what `check` is looking for. */
  const waitForTask = (taskId: string, check: (body: any) => boolean, what: string, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const body = await showTask(taskId, 'limit=50');
        return body?.batchtask && check(body) ? body : undefined;
      },
      what,
      timeoutMs,
    );

  const waitUntilFinished = (taskId: string, timeoutMs = 20_000) =>
    waitForTask(taskId, (b) => FINAL.includes(b.batchtask.status), `task ${taskId} to finish`, timeoutMs);

  return { api, tasks, command, onlineDevice, createTask, showTask, waitForTask, waitUntilFinished };
};

/** Unknown device ids: their sub-tasks fail at once with IOTDA.014000, which makes large tasks quick. */
export const nobody = (n: number, prefix = `ghost${Date.now()}`) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

/**
 * Holds a silent device's commands until told to answer them: a sub-task stays in flight exactly as long as a
 * test needs, whatever the machine's speed. From `answerAll` on, each command is answered at once.
 */
export const answerWhenTold = (device: SimulatedDevice) => {
  const held: string[] = [];
  let answering = false;
  const answer = (topic: string) =>
    device.client.publish(
      topic.replace('/sys/commands/request_id=', '/sys/commands/response/request_id='),
      JSON.stringify({ result_code: 0, response_name: 'open', paras: {} }),
      { qos: 1 },
    );
  device.onMessage(({ topic }) => {
    if (!topic.includes('/sys/commands/request_id=')) return;
    if (answering) answer(topic);
    else held.push(topic);
  });
  return {
    answerAll() {
      answering = true;
      for (const topic of held.splice(0)) answer(topic);
    },
  };
};
