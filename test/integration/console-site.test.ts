import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleSite } from '../../local/console-site.ts';
import type { Runtime } from '../../local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

/** The console's static files on the API port (CONTRACT §8): no token needed, nothing else opened up. */
describe('console site on the local gateway', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });

  it('serves the built console at /console/ without a token, its hashed assets cached for good', async () => {
    const page = await fetch(`${runtime.httpUrl}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${runtime.httpUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('redirects /console to /console/, keeping the query', async () => {
    const res = await fetch(`${runtime.httpUrl}/console?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/console/?x=1');
  });

  it('leaves every other path and method to the API: a token is still needed there', async () => {
    const post = await fetch(`${runtime.httpUrl}/console/`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(((await post.json()) as { error_code: string }).error_code).toBe('DOWNLINK.404000');
    const near = await fetch(`${runtime.httpUrl}/consolex`);
    expect(near.status).toBe(404);
    const api = await fetch(`${runtime.httpUrl}/v5/iot/${runtime.project}/devices`);
    expect(api.status).toBe(401);
  });

  it('does not serve files outside the build', async () => {
    const res = await fetch(`${runtime.httpUrl}/console/..%2f..%2fpackage.json`);
    expect(await res.text()).not.toContain('"name": "downlink"');
  });
});

/** A runtime started without `npm start` (a bench, a tool, the smoke test) may have no build: it still starts. */
describe('console site with no build', () => {
  it('answers 503 saying how to build it, instead of failing the runtime', async () => {
    const serve = consoleSite(mkdtempSync(join(tmpdir(), 'no-console-')));
    const server = createServer((req, res) => serve(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/console/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm start');
    } finally {
      server.close();
    }
  });
});
