import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { BREAKER_MAX_OPEN_MS, BREAKER_THRESHOLD, HostBreaker } from '../../shared/domain/host-breaker.ts';
import {
  delaySeconds,
  MAX_RETRY_DELAY_MS,
  projectOfEnvelope,
  pushSignature,
  retryDelayMs,
  verifyPushSignature,
} from '../../shared/domain/push-delivery.ts';

describe('retry delays (CONTRACT.md §7)', () => {
  it('start after the base and double, jittered by at most a quarter, up to 15 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 0))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 0.999))).toEqual([1250, 2500, 4999, 9998]);
    for (let n = 1; n < 60; n++)
      for (const r of [0, 0.5, 0.999]) {
        const d = retryDelayMs(n, 1000, r);
        expect(d).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
        expect(d).toBeGreaterThanOrEqual(Math.min(1000 * 2 ** (n - 1), MAX_RETRY_DELAY_MS * 0.8));
      }
    expect(retryDelayMs(30, 1000, 0)).toBe(MAX_RETRY_DELAY_MS * 0.8);
  });

  it('become whole SQS delay seconds, rounded up and at most 900', () => {
    expect([1, 999, 1000, 1001, 2_000_000].map(delaySeconds)).toEqual([1, 1, 1, 2, 900]);
  });
});

describe('push signature (CONTRACT.md §7)', () => {
  it('is the hex HMAC-SHA256 of "{timestamp}.{body}" keyed by the token', () => {
    const expected = createHmac('sha256', 'tok').update('1700000000000.{"a":1}').digest('hex');
    expect(pushSignature('tok', '1700000000000', '{"a":1}')).toBe(expected);
    expect(verifyPushSignature('tok', '1700000000000', '{"a":1}', expected)).toBe(true);
    expect(verifyPushSignature('tok', '1700000000001', '{"a":1}', expected)).toBe(false);
    expect(verifyPushSignature('tok', '1700000000000', '{"a":2}', expected)).toBe(false);
    expect(verifyPushSignature('other', '1700000000000', '{"a":1}', expected)).toBe(false);
    expect(verifyPushSignature('tok', undefined, '{"a":1}', expected)).toBe(false);
    expect(verifyPushSignature('tok', '1700000000000', '{"a":1}', 'zz')).toBe(false);
  });
});

describe('project of a notification', () => {
  const envelope = (header: Record<string, unknown> | undefined, body: Record<string, unknown>) => ({
    resource: 'r',
    event: 'update',
    event_time: '',
    event_time_ms: '',
    request_id: 'x',
    notify_data: header ? { header, body } : { body },
  });
  it('is the header app_id, or the body app_id of a batch task', () => {
    expect(projectOfEnvelope(envelope({ app_id: 'p1' }, {}))).toBe('p1');
    expect(projectOfEnvelope(envelope(undefined, { app_id: 'p2', task_id: 't' }))).toBe('p2');
    expect(projectOfEnvelope(envelope(undefined, {}))).toBeUndefined();
  });
});

describe('host breaker', () => {
  const setup = (maxInFlight = 2) => {
    let now = 0;
    const breaker = new HostBreaker({ maxInFlight, firstProbeMs: 100 }, () => now);
    return { breaker, advance: (ms: number) => void (now += ms) };
  };

  it('lets at most maxInFlight pushes to one host run at once, and others through', () => {
    const { breaker } = setup();
    expect([breaker.admit('a'), breaker.admit('a'), breaker.admit('a'), breaker.admit('b')]).toEqual([
      'send',
      'send',
      'busy',
      'send',
    ]);
    breaker.settle('a', true);
    expect(breaker.admit('a')).toBe('send');
  });

  it('gives a freed place to the oldest push waiting, waits while the host moves, and gives up when it stalls', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const breaker = new HostBreaker({ maxInFlight: 1, firstProbeMs: 100 }, () => now);
      const tick = (ms: number) => {
        now += ms;
        vi.advanceTimersByTime(ms);
      };
      expect(breaker.admit('a')).toBe('send');
      const first = breaker.admitWithin('a', 100, 1000);
      const second = breaker.admitWithin('a', 100, 1000);
      let secondAnswered = false;
      void second.then(() => void (secondAnswered = true));
      tick(90);
      breaker.settle('a', true);
      expect(await first).toBe('send');
      // The place went to the waiting push, not to one arriving now.
      expect(breaker.admit('a')).toBe('busy');
      // A POST ended 90 ms into the wait: the second waits on, then gives up 100 ms after the host stalled.
      tick(90);
      await Promise.resolve();
      expect(secondAnswered).toBe(false);
      tick(20);
      expect(await second).toBe('busy');
      breaker.settle('a', true);
      expect(await breaker.admitWithin('a', 100, 1000)).toBe('send');
    } finally {
      vi.useRealTimers();
    }
  });

  it('opens after consecutive failures, probes one at a time later, and closes on a success', () => {
    const { breaker, advance } = setup(100);
    for (let i = 0; i < BREAKER_THRESHOLD - 1; i++) {
      expect(breaker.admit('a')).toBe('send');
      breaker.settle('a', false);
    }
    expect(breaker.admit('a')).toBe('send');
    breaker.settle('a', false);
    expect(breaker.admit('a')).toBe('open');
    expect(breaker.reopensInMs('a')).toBe(100); // retries wait at least this long
    expect(breaker.admit('b')).toBe('send');
    advance(100);
    expect(breaker.reopensInMs('a')).toBe(0);
    expect(breaker.admit('a')).toBe('send'); // the probe
    expect(breaker.admit('a')).toBe('open'); // one at a time
    breaker.settle('a', false);
    advance(150);
    expect(breaker.admit('a')).toBe('open'); // the wait doubled
    advance(50);
    expect(breaker.admit('a')).toBe('send');
    breaker.settle('a', true);
    expect([breaker.admit('a'), breaker.admit('a')]).toEqual(['send', 'send']);
  });

  it('waits at most three minutes between probes, as IoTDA does', () => {
    const { breaker, advance } = setup(100);
    for (let i = 0; i < BREAKER_THRESHOLD + 30; i++) {
      advance(BREAKER_MAX_OPEN_MS);
      expect(breaker.admit('a')).toBe('send');
      breaker.settle('a', false);
    }
  });
});
