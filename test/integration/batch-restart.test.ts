import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { connectDevice } from '../../tools/simulated-device.ts';
import { signal, startRuntimeProcess } from '../support/process.ts';
import { freeFormProduct } from '../support/runtime.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'downlink-batch-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// A silent device keeps its sub-task Processing for the whole sync wait: 3 s here.
const startProcess = () =>
  startRuntimeProcess({
    DOWNLINK_DATA_DIR: dataDir,
    DOWNLINK_BOOTSTRAP_PROJECT: 'restart',
    DOWNLINK_COMMAND_TIMEOUT_MS: '3000',
  });

type Rt = Awaited<ReturnType<typeof startProcess>>;

const until = async <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** A task over a silent online device and an unknown one, seen running (the silent sub-task claimed). */
const startSilentTask = async (rt: Rt, node: string) => {
  const secret = 'secret-restart-1';
  // 409 when an earlier process on this data dir made it.
  expect([201, 409]).toContain((await rt.call('POST', '/products', freeFormProduct('batch'))).status);
  const deviceId = (await rt.call('POST', '/devices', { node_id: node, product_id: 'batch', auth_info: { secret } }))
    .body.device_id as string;
  const device = await connectDevice({ deviceId, secret, port: rt.mqttPort, reply: 'silent' });
  onTestFinished(() => device.close().catch(() => undefined));
  await until(
    async () => ((await rt.call('GET', `/devices/${deviceId}`)).body.status === 'ONLINE' ? true : undefined),
    'online',
  );
  // The command reaching the device means its sub-task is claimed (Processing): an event, not a poll that a
  // busy machine could make miss the 3 s the sub-task stays so.
  const commanded = device.nextMessage((m) => m.topic.includes('/sys/commands/request_id='), 15_000);
  const created = await rt.call('POST', '/batchtasks', {
    task_name: 'restart',
    task_type: 'createCommands',
    targets: [deviceId, 'nobody-restart'],
    document: { paras: { x: 1 } },
  });
  expect(created.status).toBe(201);
  const taskId = created.body.task_id as string;
  await commanded;
  return { taskId, deviceId };
};

const finished = (rt: Rt, taskId: string) =>
  until(async () => {
    const body = (await rt.call('GET', `/batchtasks/${taskId}`)).body;
    return ['Success', 'Fail', 'PartialSuccess'].includes(body.batchtask.status) ? body : undefined;
  }, 'the task to end');

// Each test starts runtime processes one after another: a minute and more on a busy machine.
describe('batch task across a restart of the local runtime', () => {
  it('stops cleanly mid-run once the running chunk is recorded, and the next start finishes the task', {
    timeout: 120_000,
  }, async () => {
    const first = await startProcess();
    const { taskId, deviceId } = await startSilentTask(first, 'n-stop');
    expect(await signal(first.child, 'SIGINT')).toBe(0);

    const second = await startProcess();
    try {
      const done = await finished(second, taskId);
      // The chunk in flight was let finish: the silent device's sub-task has its timeout, not a restart's error.
      expect(done.task_details).toEqual([
        { target: deviceId, status: 'Fail', error: expect.objectContaining({ error_code: 'IOTDA.014111' }) },
        { target: 'nobody-restart', status: 'Fail', error: expect.objectContaining({ error_code: 'IOTDA.014000' }) },
      ]);
      expect(done.batchtask).toMatchObject({
        status: 'Fail',
        task_progress: { total: 2, fail: 2, processing: 0, waitting: 0 },
      });
    } finally {
      await signal(second.child, 'SIGTERM');
    }
  });

  it('runs again, after a crash, a sub-task that was left Processing', { timeout: 120_000 }, async () => {
    const first = await startProcess();
    const { taskId, deviceId } = await startSilentTask(first, 'n-crash');
    await signal(first.child, 'SIGKILL');

    const second = await startProcess();
    try {
      const done = await finished(second, taskId);
      // Run again at once on the next start: the device is gone with the old broker, so it is offline now.
      expect(done.task_details[0]).toEqual({
        target: deviceId,
        status: 'Fail',
        error: expect.objectContaining({ error_code: 'IOTDA.014016' }),
      });
      expect(done.batchtask.task_progress).toMatchObject({ total: 2, fail: 2, processing: 0 });
    } finally {
      await signal(second.child, 'SIGTERM');
    }
  });
});
