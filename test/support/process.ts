import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The runtime as its own process on free ports, so a test can signal or kill it; resolves on its ready line.
 * `via: 'npm'` runs `npm start` itself, as the README does (npm, then sh, then node).
 */
export const startRuntimeProcess = async (env: Record<string, string>, via: 'node' | 'npm' = 'node') => {
  const [command, args] =
    via === 'npm'
      ? ['npm', ['start']]
      : [process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'local/main.ts']];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      DOWNLINK_HTTP_PORT: '0',
      DOWNLINK_MQTT_PORT: '0',
      DOWNLINK_SQS_PORT: '0',
      DOWNLINK_DYNAMODB_PORT: '0',
      DOWNLINK_LOG_LEVEL: 'SILENT',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const line = output.split('\n').find((l, i, all) => l.startsWith('downlink ready:') && i < all.length - 1);
      if (line) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`runtime exited ${code}: ${output}`)));
  });
  const api = ready.match(/api (\S+)/)![1]!;
  const token = ready.match(/X-Auth-Token (\S+)/)![1]!;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { 'X-Auth-Token': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  return {
    child,
    ready,
    output: () => output,
    call,
    mqttPort: Number(new URL(ready.match(/mqtt (\S+)/)![1]!).port),
  };
};

/** Sends a signal and resolves with the exit code. */
export const signal = (child: ChildProcess, name: NodeJS.Signals) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(name);
  });
