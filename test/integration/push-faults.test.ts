import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { signal, startRuntimeProcess } from '../support/process.ts';
import { messagePushes, pushClient, startReceiver } from '../support/push.ts';
import { freeFormProduct, startTestRuntime, waitFor } from '../support/runtime.ts';

const pushDlq = async (sqsUrl: string, command: string) =>
  (
    await promisify(execFile)('npm', ['run', '--silent', 'push-dlq', '--', command, '--endpoint', sqsUrl], {
      cwd: join(import.meta.dirname, '../..'),
    })
  ).stdout;

// Pushes retried for 1.5 s instead of 24 hours.
const runtime = await startTestRuntime({ pushRetryBaseMs: 100, pushRetryForMs: 1_500 });

describe('a push refused for the whole retry period', () => {
  it('goes to the dead-letter queue, which push-dlq lists and redrives', { timeout: 60_000 }, async () => {
    const main = await pushClient(runtime);
    const receiver = await startReceiver({ fail: 1_000 });
    const { actionId } = await main.route('device.message.status', `${receiver.url}/dead`);
    await main.message(await main.device(), 'm-dead');
    const listed = await waitFor(async () => {
      const out = await pushDlq(runtime.sqsUrl, 'list');
      return out.includes('1 push(es) in the dead-letter queue') ? out : undefined;
    }, 'the push in the dead-letter queue');
    expect(listed).toContain(`action ${actionId}`);
    expect(listed).toContain('HTTP 500');
    const refused = messagePushes(receiver.got, 'm-dead').length;
    expect(refused).toBeGreaterThanOrEqual(2);

    receiver.failNext(0);
    expect(await pushDlq(runtime.sqsUrl, 'redrive')).toContain('1 push(es) sent back');
    await waitFor(
      async () => (messagePushes(receiver.got, 'm-dead').some((p) => p.answered === 200) ? true : undefined),
      'the redriven push accepted',
    );
    expect(await pushDlq(runtime.sqsUrl, 'list')).toContain('0 push(es) in the dead-letter queue');
  });
});

const dataDir = mkdtempSync(join(tmpdir(), 'downlink-push-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('runtime killed with pushes in flight', () => {
  it('sends every push once restarted: they wait in SQS, not in memory', { timeout: 150_000 }, async () => {
    const receiver = await startReceiver({ fail: 1_000_000, token: 'kill1' });
    const start = () =>
      startRuntimeProcess({
        DOWNLINK_DATA_DIR: dataDir,
        DOWNLINK_BOOTSTRAP_PROJECT: 'pushkill',
        DOWNLINK_PUSH_RETRY_BASE_MS: '100',
      });
    const first = await start();
    expect((await first.call('POST', '/products', freeFormProduct('pushkill'))).status).toBe(201);
    const device = await first.call('POST', '/devices', {
      node_id: 'n',
      product_id: 'pushkill',
      auth_info: { secret: 'secret-pushkill' },
    });
    const deviceId = device.body.device_id as string;
    const rule = await first.call('POST', '/routing-rule/rules', {
      rule_name: 'all',
      subject: { resource: 'device.message.status', event: 'update' },
      app_type: 'APP',
    });
    const ruleId = rule.body.rule_id as string;
    const action = await first.call('POST', '/routing-rule/actions', {
      rule_id: ruleId,
      channel: 'HTTP_FORWARDING',
      channel_detail: { http_forwarding: { url: `${receiver.url}/kill`, token: 'kill1' } },
    });
    expect(action.status).toBe(201);
    expect((await first.call('PUT', `/routing-rule/rules/${ruleId}`, { active: true })).status).toBe(200);
    const ids = Array.from({ length: 20 }, (_, i) => `k-${i}`);
    for (const id of ids)
      expect((await first.call('POST', `/devices/${deviceId}/messages`, { message_id: id, message: id })).status).toBe(
        201,
      );
    // Pushes tried and refused (ten in a row open the host's breaker), all waiting for a retry: then the kill.
    await waitFor(async () => (receiver.got.length >= 10 ? true : undefined), 'pushes refused');
    await signal(first.child, 'SIGKILL');
    receiver.failNext(0);

    const second = await start();
    try {
      await waitFor(
        async () =>
          ids.every((id) => messagePushes(receiver.got, id).some((p) => p.answered === 200)) ? true : undefined,
        'every push accepted after the restart',
        120_000,
      );
      expect(receiver.got.every((p) => p.signature === 'ok')).toBe(true);
    } finally {
      await signal(second.child, 'SIGKILL');
    }
  });
});
