import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pushSignature } from '../../shared/domain/push-delivery.ts';
import { signal } from '../support/process.ts';

describe('npm run receiver', () => {
  it('prints each push, checks its signature, and answers 500 as often as --fail says', {
    timeout: 60_000,
  }, async () => {
    const child = spawn(
      'npm',
      ['run', '--silent', 'receiver', '--', '--port', '0', '--token', 't0ken1', '--fail', '1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', () => {
          const m = /receiving pushes on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`receiver exited ${code}: ${out}`)));
      });
      const body = JSON.stringify({
        resource: 'device.status',
        event: 'update',
        request_id: 'r-1',
        notify_data: { body: { status: 'ONLINE' } },
      });
      const post = (signature: string, timestamp = '1764000000000') =>
        fetch(`${url}/push`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-downlink-timestamp': timestamp,
            'x-downlink-signature': signature,
          },
          body,
        }).then((r) => r.status);
      const good = pushSignature('t0ken1', '1764000000000', body);
      expect(await post(good)).toBe(500);
      expect(await post(good)).toBe(200);
      expect(await post(pushSignature('other1', '1764000000000', body))).toBe(401);
      const lines = out.split('\n');
      expect(lines).toContain('POST /push device.status update request_id r-1 signature ok, answered 500');
      expect(lines).toContain('POST /push device.status update request_id r-1 signature ok, answered 200');
      expect(lines).toContain('POST /push device.status update request_id r-1 signature bad, answered 401');
      expect(lines.filter((l) => l === body)).toHaveLength(3);
    } finally {
      await signal(child, 'SIGTERM');
    }
  });
});
