import { describe, expect, it } from 'vitest';
import { iotRules } from '../../functions/manifest.ts';
import { compileRule, topicMatches } from '../../local/iot-rules.ts';

describe('local IoT rules SQL', () => {
  it('selects the base64 payload, topic and client id as the response rules ask', () => {
    const rule = compileRule(
      "SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientid FROM 'oc/devices/+/sys/commands/response/+'",
    );
    expect(rule.filter).toBe('oc/devices/+/sys/commands/response/+');
    expect(
      rule.select(Buffer.from('not json'), 'oc/devices/d/sys/commands/response/request_id=1', 'd_0_0_2026010100'),
    ).toEqual({
      payload: Buffer.from('not json').toString('base64'),
      topic: 'oc/devices/d/sys/commands/response/request_id=1',
      clientid: 'd_0_0_2026010100',
    });
  });

  it('passes a JSON object through SELECT *, with topic(n) 1-based', () => {
    const rule = compileRule("SELECT *, topic(4) AS kind FROM '$aws/events/presence/+/+'");
    expect(rule.select(Buffer.from('{"a":1}'), '$aws/events/presence/connected/c1', undefined)).toEqual({
      a: 1,
      kind: 'connected',
    });
  });

  it('refuses SQL it cannot run faithfully', () => {
    expect(() => compileRule("SELECT * FROM 'a/b' WHERE x = 1")).toThrow(/unsupported/);
    expect(() => compileRule("SELECT upper(x) AS y FROM 'a/b'")).toThrow(/unsupported/);
  });

  it('compiles every rule of the manifest for both roots', () => {
    for (const root of ['oc', '$oc'] as const)
      for (const r of iotRules(root)) expect(() => compileRule(r.sql)).not.toThrow();
  });

  it('matches MQTT topic filters', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/b/c', 'a/b')).toBe(false);
  });
});
