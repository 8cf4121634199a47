import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectDevice as connectSimulated } from '../../tools/simulated-device.ts';
import {
  apiClient,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

const runtime = await startTestRuntime({ commandTimeoutMs: 1_500 });
const api = apiClient(runtime);
const { port } = new URL(runtime.httpUrl);

/** What the runtime logs from now on, at ERROR and at DEBUG (the logger's own methods, wrapped). */
const captureLogs = () => {
  const logger = runtime.deps.logger;
  const seen = { error: [] as string[], debug: [] as string[] };
  const { error, debug } = logger;
  logger.error = ((msg: string, ...rest: unknown[]) =>
    void seen.error.push(`${msg} ${JSON.stringify(rest)}`)) as typeof logger.error;
  logger.debug = ((msg: string, ...rest: unknown[]) =>
    void seen.debug.push(`${msg} ${JSON.stringify(rest)}`)) as typeof logger.debug;
  onTestFinished(() => void Object.assign(logger, { error, debug }));
  return seen;
};

/**
 * Starts a POST whose body is sent only in part (`first`), never ended; resolves with the answer, which can
 * therefore only be given without reading the whole body.
 */
const unfinishedPost = (headers: Record<string, string | number>, first: Buffer | string[]) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: any }>((resolve, reject) => {
    const req = request(`${runtime.httpUrl}${api.base}/devices`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
    });
    onTestFinished(() => void req.destroy());
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    for (const part of Array.isArray(first) ? first : [first]) req.write(part);
  });

describe('local API gateway, malformed paths', () => {
  it.each([
    ['DELETE', '/devices/%'],
    ['GET', '/devices/%E0%A4%A'],
    ['GET', '/devices/%ZZ/messages'],
    ['DELETE', '/batchtasks/%'],
  ])('answers %s %s with 400 in the contract body, before any token check', async (method, path) => {
    for (const client of [api, apiClient(runtime, null)]) {
      const res = await client.call(method!, `${api.base}${path}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error_code: 'IOTDA.000008', error_msg: 'Malformed request.' });
    }
  });

  it('still decodes a well-formed encoded segment once', async () => {
    // %41 is "A": a valid id after decoding, so the device lookup runs (404 for an unknown one).
    const res = await api.call('GET', `${api.base}/devices/no%41such`);
    expect(res.status).toBe(404);
    expect(res.body.error_msg).toContain('noAsuch');
  });
});

describe('local API gateway, requests HTTP cannot parse', () => {
  it.each([
    ['a header line without a colon', `GET ${'/v5/iot/test/devices/x'} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`],
    [
      'a broken chunk size',
      `POST /v5/iot/test/devices HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${runtime.token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    ],
  ])('answers %s with 400 in the contract body', async (_what, raw) => {
    const socket = connect(Number(port), '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    const closed = new Promise((r) => socket.on('close', r));
    socket.write(raw);
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
      error_code: 'IOTDA.000008',
      error_msg: 'Malformed request.',
    });
  });
});

describe('local API gateway, request bodies over the limit', () => {
  it('answers a body announced over 10 MB with 413 at once, without a token and without reading it', async () => {
    const res = await unfinishedPost({ 'Content-Length': 20 * 2 ** 20 }, ['{"node_id":']);
    expect(res.status).toBe(413);
    expect(res.body.error_code).toBe('DOWNLINK.413001');
    expect(res.headers.connection).toBe('close');
  });

  it('answers a body without a token with 401 before reading it', async () => {
    const res = await unfinishedPost({ 'Content-Length': 1_000_000 }, ['{']);
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('IOTDA.000002');
  });

  it('cuts a chunked body off once it passes 10 MB, with 413', async () => {
    // 11 MB in 1 MB chunks, never ended: an answer can only come from the cut-off.
    const res = await unfinishedPost(
      { 'X-Auth-Token': runtime.token },
      Array.from({ length: 11 }, () => 'a'.repeat(2 ** 20)),
    );
    expect(res.status).toBe(413);
    expect(res.body.error_code).toBe('DOWNLINK.413001');
  });
});

describe('local API gateway, clients that hang up', () => {
  it('logs no ERROR for a client that closes mid-body', async () => {
    const logs = captureLogs();
    const socket = connect(Number(port), '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    socket.on('error', () => undefined);
    socket.write(
      `POST ${api.base}/devices HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${runtime.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"node_id":`,
      () => socket.destroy(),
    );
    await waitFor(
      async () => (logs.debug.some((l) => l.includes('client closed')) ? true : undefined),
      'the debug line',
    );
    expect(logs.error).toEqual([]);
  });

  it('logs no ERROR for a client that gives up on a sync command while it waits for the device', async () => {
    const logs = captureLogs();
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectSimulated({
      deviceId,
      secret,
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
      reply: 'silent',
    });
    onTestFinished(() => device.close());
    await waitForStatus(runtime, deviceId, 'ONLINE');
    await waitForQueueIdle(runtime, 'presence');
    const sent = device.nextMessage((m) => m.topic.includes('/sys/commands/'));
    const abort = new AbortController();
    const call = fetch(`${runtime.httpUrl}${api.base}/devices/${deviceId}/commands`, {
      method: 'POST',
      headers: { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ paras: { on: true } }),
      signal: abort.signal,
    }).catch((e: unknown) => e);
    await sent; // the command is out and the call is waiting for the answer
    abort.abort();
    await call;
    await waitFor(
      async () => (logs.debug.some((l) => l.includes('client closed')) ? true : undefined),
      'the debug line',
    );
    expect(logs.error).toEqual([]);
  });
});
