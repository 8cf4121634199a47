import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_SETTINGS, FUNCTIONS } from '../../functions/manifest.ts';
import { settingsFromEnv } from '../../local/settings.ts';
import { descendantsOf, listeningSockets } from '../support/os.ts';
import { signal, startRuntimeProcess } from '../support/process.ts';

// What README.md states about the runtime and the stack, read from README.md itself, so the two cannot drift.

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const dataDir = mkdtempSync(join(tmpdir(), 'downlink-readme-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The rows of the first table after a heading, as objects keyed by the header cells. */
const tableAfter = (heading: string): Record<string, string>[] => {
  const lines = README.slice(README.indexOf(`\n${heading}\n`)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows = lines.slice(
    start,
    lines.findIndex((l, i) => i > start && !l.startsWith('|')),
  );
  const cells = (l: string) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const header = cells(rows[0]!);
  return rows.slice(2).map((r) => Object.fromEntries(cells(r).map((c, i) => [header[i], c])));
};

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

/** Ports free right now, for the settings the test chooses. */
const freePorts = (n: number) =>
  Promise.all(
    Array.from({ length: n }, () => {
      const server = createServer();
      return new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        }),
      );
    }),
  );

describe('README ports table', () => {
  const rows = tableAfter('### Ports');
  const chosen = rows.filter((r) => r.Setting !== 'none');

  it('names each setting with its real default, and free ports for the rest', () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of chosen) expect(settingsFromEnv({ [unquote(r.Setting!)]: r.Default })).toEqual(settingsFromEnv({}));
    for (const r of rows.filter((r) => r.Setting === 'none')) expect(r.Default).toBe('a free port');
  });

  it('lists exactly the ports the running runtime listens on, as the OS sees them', async () => {
    const ports = await freePorts(chosen.length);
    const env = Object.fromEntries(chosen.map((r, i) => [unquote(r.Setting!), String(ports[i])]));
    const rt = await startRuntimeProcess({
      ...env,
      DOWNLINK_DATA_DIR: join(dataDir, 'ports'),
      DOWNLINK_HOST: '127.0.0.1',
    });
    try {
      const sockets = listeningSockets([rt.child.pid!, ...descendantsOf(rt.child.pid!)]);
      const listening = [...new Set(sockets.map((s) => s.port))];
      expect(listening).toHaveLength(rows.length);
      expect(listening).toEqual(expect.arrayContaining(ports));
      expect(sockets.filter((s) => s.address !== '127.0.0.1')).toEqual([]);
    } finally {
      await signal(rt.child, 'SIGTERM');
    }
  });
});

describe('README configuration table', () => {
  it('gives each setting the default the runtime uses', () => {
    // Rows whose default is one value (not prose such as "generated once"): that value changes nothing.
    const plain = tableAfter('## Configuration (local runtime)').filter(
      (r) => /^`DOWNLINK_\w+`$/.test(r.Setting!) && /^`?[^\s`]+`?$/.test(r.Default!),
    );
    expect(plain.length).toBeGreaterThanOrEqual(8);
    for (const r of plain)
      expect(settingsFromEnv({ [unquote(r.Setting!)]: unquote(r.Default!) }), r.Setting).toEqual(settingsFromEnv({}));
  });
});

describe('README on the stack', () => {
  it('names exactly the functions that may start the batch state machine', () => {
    const sentence = /which exactly \w+ functions may start\s+\(`access\.startBatch` in the manifest\):([^;]+);/.exec(
      README,
    )?.[1];
    expect(sentence).toBeDefined();
    const named = [...sentence!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
    expect(named.sort()).toEqual(
      FUNCTIONS.filter((f) => f.access.startBatch)
        .map((f) => f.name)
        .sort(),
    );
  });

  it('says a revoked token stops at once only while API Gateway caches no authorizer answer', () => {
    expect(README).toContain('not cached, so a revoked token stops at once');
    expect(API_SETTINGS.authorizerCacheSeconds).toBe(0);
  });
});
