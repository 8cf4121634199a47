import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { startRuntime } from '../../local/runtime.ts';
import { ephemeralSettings } from '../../local/settings.ts';
import { startRuntimeProcess, signal } from '../support/process.ts';
import { descendantsOf, isAlive, listeningSockets } from '../support/os.ts';
import {
  apiClient,
  connectDevice,
  freeFormProduct,
  huaweiOptions,
  registerDevice,
  waitFor,
  waitForStatus,
} from '../support/runtime.ts';

const run = promisify(execFile);
const NODE = process.execPath;
const dataDir = mkdtempSync(join(tmpdir(), 'downlink-test-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('local runtime data directory', () => {
  it('keeps devices, tokens and the bootstrap token across a restart', async () => {
    const first = await startRuntime(ephemeralSettings({ dataDir }));
    const { deviceId, secret } = await registerDevice(first);
    const token = first.token;
    await first.stop();

    const second = await startRuntime(ephemeralSettings({ dataDir }));
    try {
      expect(second.token).toBe(token);
      expect((await apiClient(second).showDevice(deviceId)).status).toBe(200);
      const client = await connectDevice(second, huaweiOptions(deviceId, secret));
      await waitForStatus(second, deviceId, 'ONLINE');
      await client.endAsync();
    } finally {
      await second.stop();
    }
  });

  it('stops with devices connected without an error: their disconnects are published before the broker closes', async () => {
    const runtime = await startRuntime(ephemeralSettings({ dataDir: mkdtempSync(join(tmpdir(), 'downlink-stop-')) }));
    const { deviceId, secret } = await registerDevice(runtime);
    const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
    await waitForStatus(runtime, deviceId, 'ONLINE');
    const errors: unknown[] = [];
    runtime.deps.logger.error = ((...args: unknown[]) => void errors.push(args)) as typeof runtime.deps.logger.error;
    await runtime.stop();
    client.end(true);
    // Before the fix, each device's disconnect failed on the broker's closed emitter ("mqemitter is closed").
    expect(errors).toEqual([]);
  });

  it('marks devices OFFLINE whose connections died with a killed runtime', async () => {
    // Simulate a crash: ONLINE recorded, then the process gone without any disconnect event.
    const crashed = await startRuntime(ephemeralSettings({ dataDir }));
    const { deviceId, secret } = await registerDevice(crashed);
    const client = await connectDevice(crashed, huaweiOptions(deviceId, secret));
    await waitForStatus(crashed, deviceId, 'ONLINE');
    // The dying process publishes nothing more: its broker sends the disconnect when the socket closes.
    crashed.broker.publish = ((_packet: unknown, done?: () => void) => done?.()) as typeof crashed.broker.publish;
    client.stream.destroy();
    await crashed.stop();

    const restarted = await startRuntime(ephemeralSettings({ dataDir }));
    try {
      await waitForStatus(restarted, deviceId, 'OFFLINE');
    } finally {
      await restarted.stop();
    }
  });
});

describe('npm start', () => {
  it('prints one ready line, serves, and stops cleanly on SIGTERM', async () => {
    const rt = await startRuntimeProcess({
      DOWNLINK_DATA_DIR: join(dataDir, 'npm-start'),
      DOWNLINK_BOOTSTRAP_TOKEN: 'dlk_bootstrap-token-for-tests',
      DOWNLINK_BOOTSTRAP_PROJECT: 'proj1',
    });
    expect(rt.ready).toMatch(
      /^downlink ready: api http:\/\/127\.0\.0\.1:\d+\/v5\/iot\/proj1 .* X-Auth-Token dlk_bootstrap-token-for-tests$/,
    );
    expect((await rt.call('POST', '/products', freeFormProduct('p'))).status).toBe(201);
    expect((await rt.call('POST', '/devices', { node_id: 'n', product_id: 'p' })).status).toBe(201);
    expect(await signal(rt.child, 'SIGTERM')).toBe(0);
    expect(rt.output()).toContain('downlink stopped (SIGTERM)');
  });

  it('binds every port (API, MQTT, SQS, DynamoDB, iot-data, Step Functions) to DOWNLINK_HOST only', async () => {
    const rt = await startRuntimeProcess({ DOWNLINK_DATA_DIR: join(dataDir, 'bind'), DOWNLINK_HOST: '127.0.0.1' });
    try {
      const sockets = listeningSockets([rt.child.pid!, ...descendantsOf(rt.child.pid!)]);
      expect(sockets.length).toBeGreaterThanOrEqual(6);
      // Before the fix, fauxqs (SQS, presence events included) listened on 0.0.0.0 whatever the host.
      expect(sockets.filter((s) => s.address !== '127.0.0.1')).toEqual([]);
    } finally {
      await signal(rt.child, 'SIGTERM');
    }
  });

  it('SIGTERM to the npm process ends the runtime: no process left, every port free', async () => {
    const rt = await startRuntimeProcess({ DOWNLINK_DATA_DIR: join(dataDir, 'npm-sigterm') }, 'npm');
    const tree = descendantsOf(rt.child.pid!);
    const ports = listeningSockets([rt.child.pid!, ...tree]).map((s) => s.port);
    try {
      expect(ports.length).toBeGreaterThanOrEqual(6);
      await signal(rt.child, 'SIGTERM');
      // Before the fix, npm's shell died and node stayed on with every port.
      await waitFor(async () => (tree.some(isAlive) ? undefined : true), 'the runtime processes to end', 20_000);
      expect(listeningSockets().filter((s) => ports.includes(s.port))).toEqual([]);
      expect(rt.output()).toContain('downlink stopped (SIGTERM)');
    } finally {
      for (const pid of tree.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('token CLI', () => {
  it('creates, lists and revokes tokens in the running runtime table', async () => {
    // No authorizer cache, so the revocation shows at once (as deployed: API_SETTINGS.authorizerCacheSeconds).
    const rt = await startRuntime(ephemeralSettings({ authorizerCacheSeconds: 0 }));
    try {
      const cli = (...args: string[]) =>
        run(NODE, ['--import', 'tsx', 'tools/tokens.ts', ...args, '--endpoint', rt.dynamodbUrl], { encoding: 'utf8' });
      const created = await cli('create', '--project', rt.project, '--project', 'p2', '--name', 'ci');
      const token = created.stdout.match(/^token (\S+)$/m)![1]!;
      const id = created.stdout.match(/^id (\S+)$/m)![1]!;
      expect((await apiClient(rt, token).showDevice('none')).status).toBe(404); // authorized, device unknown

      const listed = await cli('list');
      expect(listed.stdout).toContain(`${id}`);
      expect(listed.stdout).toContain(`${rt.project},p2`);
      expect(listed.stdout).not.toContain(token);

      await cli('revoke', id);
      expect((await apiClient(rt, token).showDevice('none')).status).toBe(401);
      await expect(cli('revoke', id)).rejects.toMatchObject({ code: 2 });
      await expect(cli('create', '--project', 'bad/project')).rejects.toThrow();
    } finally {
      await rt.stop();
    }
  });
});

describe('local DynamoDB memory', () => {
  it('gives back what deleted items held: 40 messages of 200 KB pushed out of a history leave nothing behind', async () => {
    // dynalite left every Query's LevelDB iterator open, and each kept a snapshot of the store (dynamodb-thread.mjs).
    const rt = await startRuntime(ephemeralSettings());
    try {
      const { deviceId } = await registerDevice(rt);
      const api = apiClient(rt);
      const send = async (message: string) =>
        expect((await api.call('POST', `${api.base}/devices/${deviceId}/messages`, { message })).status).toBe(201);
      const before = await rt.dynamodbMemory();
      for (let i = 0; i < 40; i++) await send(`${i}`.padEnd(200_000, 'b'));
      for (let i = 0; i < 20; i++) await send(`small ${i}`);
      const after = await rt.dynamodbMemory();
      // The 40 large ones took 8 MB as sent and about 30 MB as dynalite stores them (item and index copies).
      expect((after.external - before.external) / 2 ** 20).toBeLessThan(8);
    } finally {
      await rt.stop();
    }
  });
});

describe('authorizer cache', () => {
  it('keeps a revoked token working until its cached answer expires, as API Gateway does', async () => {
    const rt = await startRuntime(ephemeralSettings({ authorizerCacheSeconds: 1 }));
    let clock: MockInstance<() => number> | undefined;
    try {
      const { createApiToken, revokeApiToken } = await import('../../shared/use-cases/manage-api-tokens.ts');
      const { token, record } = await createApiToken(rt.deps, [rt.project]);
      const client = apiClient(rt, token);
      // The gateway's clock stands still while the cached answer is used, then moves past its second:
      // what is checked does not depend on how fast the calls are.
      const start = Date.now();
      clock = vi.spyOn(Date, 'now').mockReturnValue(start);
      expect((await client.showDevice('none')).status).toBe(404);
      await revokeApiToken(rt.deps, record.tokenId);
      expect((await client.showDevice('none')).status).toBe(404); // cached
      clock.mockReturnValue(start + 1_100);
      expect((await client.showDevice('none')).status).toBe(401);
    } finally {
      clock?.mockRestore();
      await rt.stop();
    }
  });
});
