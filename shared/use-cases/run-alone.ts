import { randomUUID } from 'node:crypto';
import type { Deps } from '../ports/deps.ts';

/** The ports this use case uses. */
export type RunAloneDeps = Pick<Deps, 'clock' | 'leases' | 'logger'>;

/**
 * Runs `work` unless another run of the same name holds its lease (docs/decisions.md "Sweepers run one at a
 * time"): a scheduled run that outlasts its interval, or a retried invocation, is skipped instead of running
 * beside it. The lease lasts `maxMs`, the caller's remaining time, so a run that died frees it by then.
 */
export const runAlone = async <T>(
  deps: RunAloneDeps,
  name: string,
  maxMs: number,
  work: () => Promise<T>,
): Promise<T | { skipped: true }> => {
  const holder = randomUUID();
  const now = deps.clock.now();
  if (!(await deps.leases.acquire(name, holder, now, now + maxMs))) {
    deps.logger.info('skipped: another run holds the lease', { lease: name });
    return { skipped: true };
  }
  try {
    return await work();
  } finally {
    await deps.leases.release(name, holder);
  }
};
