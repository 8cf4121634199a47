import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import sirv from 'sirv';

/** The console's sources and its static build (CONTRACT §8): served under /console/ on the API's port. */
const ROOT = resolve(import.meta.dirname, '..');
const CONSOLE = join(ROOT, 'console');
export const CONSOLE_DIST = join(CONSOLE, 'dist');
const STAMP = join(CONSOLE_DIST, '.built');
/** What the build is made from: the console, the model checks it shares with the server, the lock file. */
const SOURCES = [
  join(CONSOLE, 'src'),
  join(CONSOLE, 'index.html'),
  join(CONSOLE, 'vite.config.ts'),
  join(ROOT, 'shared', 'domain'),
  join(ROOT, 'shared', 'time.ts'),
  join(ROOT, 'package-lock.json'),
];

const newest = (path: string): number => {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
};

/** Whether the build is missing or older than any of its sources. */
export const consoleIsStale = () =>
  !existsSync(STAMP) || statSync(STAMP).mtimeMs < Math.max(...SOURCES.filter(existsSync).map(newest));

/**
 * Builds the console when it is missing or stale (`npm ci && npm start` needs no other step). The build goes
 * to a folder of its own and is then moved into place, so a server never reads half a build.
 */
export function ensureConsoleBuilt(log: (line: string) => void = () => {}): void {
  if (!consoleIsStale()) return;
  log('building the console (console/ changed or was never built)');
  const outDir = `${CONSOLE_DIST}.tmp-${process.pid}`;
  // A child process with NODE_ENV=production: React's production build whatever the caller runs with
  // (vitest sets 'test'), and none of Vite's memory kept by the runtime.
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const built = spawnSync(
    process.execPath,
    [vite, 'build', CONSOLE, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    {
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
    },
  );
  if (built.status !== 0) throw new Error(`the console build failed: ${built.stderr || built.stdout}`);
  writeFileSync(join(outDir, '.built'), new Date().toISOString());
  rmSync(CONSOLE_DIST, { recursive: true, force: true });
  try {
    renameSync(outDir, CONSOLE_DIST);
  } catch (e) {
    // Another process built it at the same moment: theirs is as good.
    rmSync(outDir, { recursive: true, force: true });
    if (!existsSync(STAMP)) throw e;
  }
}

/** Serves the build under /console/: hashed assets cached for good, index.html always revalidated. */
export const consoleSite = (dist = CONSOLE_DIST) => {
  // Made at the first request: a runtime started without `npm start` (a bench, a tool) may have no build.
  let serve: ReturnType<typeof sirv> | undefined;
  const files = () =>
    (serve ??= sirv(dist, {
      dev: false,
      etag: true,
      single: true,
      setHeaders: (res, path) =>
        res.setHeader(
          'Cache-Control',
          path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        ),
    }));
  return (req: IncomingMessage, res: ServerResponse, notFound: () => void) => {
    if (!existsSync(join(dist, '.built')))
      return void res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end('The console is not built: `npm start` builds it.\n');
    // The gateway sends /console and everything below it here.
    const url = req.url ?? '/console';
    const rest = url.slice('/console'.length);
    if (!rest.startsWith('/')) return void res.writeHead(301, { Location: `/console/${rest}` }).end();
    req.url = rest;
    files()(req, res, notFound);
  };
};
