import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** `npm run smoke` as CI and the README run it; resolves with its exit code and output. */
const smoke = async (...args: string[]) => {
  try {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'smoke', '--', ...args], {
      timeout: 170_000,
    });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code, stdout: err.stdout ?? '' };
  }
};

describe('npm run smoke', () => {
  it('passes every step against the local runtime it starts, and deletes what it created', {
    timeout: 180_000,
  }, async () => {
    const { code, stdout } = await smoke();
    expect(stdout).not.toContain('FAIL');
    const steps = stdout.split('\n').filter((l) => /^(ok|FAIL|skip) /.test(l));
    expect(steps.map((l) => l.replace(/^ok\s+\d+ ms {2}/, '').replace(/:.*/, ''))).toEqual([
      'create a product',
      'add 3 devices',
      'connect with the Huawei scheme, subscribe sys/#, ONLINE',
      'command round trip',
      'property set and query',
      'disconnect, OFFLINE',
      'message to the offline device delivered on connect',
      '3-device batch task to a final status',
      'notifications read back',
      'delete everything it created',
    ]);
    expect(code).toBe(0);
  });

  it('exits 1 at the first failing step, naming it', { timeout: 60_000 }, async () => {
    // Nothing listens on port 1: the first call fails.
    const { code, stdout } = await smoke(
      '--api',
      'http://127.0.0.1:1/v5/iot/demo',
      '--token',
      't',
      '--mqtt-host',
      '127.0.0.1',
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL\s+\d+ ms {2}create a product: /m);
    expect(stdout).not.toContain('add 3 devices');
  });

  it('refuses a deployed target without all of --api, --token and --mqtt-host', async () => {
    const { code } = await smoke('--api', 'http://127.0.0.1:1/v5/iot/demo');
    expect(code).toBe(2);
  });
});
