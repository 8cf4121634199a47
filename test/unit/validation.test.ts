import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../../shared/errors.ts';
import { idString, parseDeviceId, parseInput } from '../../shared/validation.ts';

const errorOf = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('input validation', () => {
  const Body = z.object({ name: idString(8), nested: z.object({ count: z.number().int() }).optional() });

  it('returns the parsed value when it is valid', () => {
    expect(parseInput(Body, { name: 'a_b-1', extra: true })).toEqual({ name: 'a_b-1' });
  });

  it('answers 400 IOTDA.000006 naming the first offending field, nested ones by their path', () => {
    for (const [value, field, why] of [
      [{}, 'name', 'is required'],
      [{ name: 'x'.repeat(9) }, 'name', '<=8 characters'],
      [{ name: 'a/b' }, 'name', '[A-Za-z0-9_-]'],
      [{ name: 'ok', nested: { count: 1.5 } }, 'nested.count', ''],
      ['text', 'body', ''],
    ] as const) {
      const e = errorOf(() => parseInput(Body, value));
      expect([e.status, e.code]).toEqual([400, 'IOTDA.000006']);
      expect(e.message).toContain(field);
      expect(e.message).toContain(why);
    }
  });

  it('checks device ids in paths: 1-128 of [A-Za-z0-9_-]', () => {
    expect(parseDeviceId('dev_1-x')).toBe('dev_1-x');
    for (const bad of [undefined, '', 'a'.repeat(129), 'a b', 'a/b'])
      expect(errorOf(() => parseDeviceId(bad)).code).toBe('IOTDA.000006');
  });
});
