import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../bench/fuzz.ts';
import { startTestRuntime } from '../support/runtime.ts';

const runtime = await startTestRuntime({ commandTimeoutMs: 1_000 });

describe('seeded fuzz of the REST API (npm run bench -- fuzz runs 10,000)', () => {
  it('answers 300 malformed requests over every route without a 5xx or a hang', async () => {
    const { counts, failures } = await runFuzz(runtime, { seed: 7, count: 300, concurrency: 4 });
    expect(failures).toEqual([]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(300);
  }, 120_000);
});
