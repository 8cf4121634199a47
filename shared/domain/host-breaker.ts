/** IoTDA blocklists a receiver's host after 10 consecutive failures (research console-and-models §5). */
export const BREAKER_THRESHOLD = 10;
/** IoTDA probes a blocklisted host every 3 minutes; we probe sooner at first, doubling up to that. */
export const BREAKER_MAX_OPEN_MS = 3 * 60 * 1000;

export type Admission = 'send' | 'open' | 'busy';

interface HostState {
  inFlight: number;
  failures: number;
  openUntil: number;
  probing: boolean;
}

/**
 * Keeps one failing or hanging receiver from holding the pushes of every other one: per host, at most
 * `maxInFlight` POSTs at once ('busy' beyond), and after BREAKER_THRESHOLD consecutive failures no POST at
 * all ('open') but one probe at a time, from `firstProbeMs` after the last failure, doubling up to
 * BREAKER_MAX_OPEN_MS. State is per process (per Lambda instance): a hint that saves work, never a record.
 */
export class HostBreaker {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly opts: { maxInFlight: number; firstProbeMs: number },
    private readonly now: () => number,
  ) {}

  admit(host: string): Admission {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { inFlight: 0, failures: 0, openUntil: 0, probing: false }));
    if (s.inFlight >= this.opts.maxInFlight) return 'busy';
    if (s.failures >= BREAKER_THRESHOLD) {
      if (s.probing || this.now() < s.openUntil) return 'open';
      s.probing = true;
    }
    s.inFlight++;
    return 'send';
  }

  /** After each admitted POST: a success closes the breaker, a failure counts towards opening it. */
  settle(host: string, ok: boolean): void {
    const s = this.hosts.get(host);
    if (!s) return;
    s.inFlight--;
    s.probing = false;
    if (ok) {
      if (s.inFlight === 0) this.hosts.delete(host);
      else s.failures = 0;
      return;
    }
    s.failures++;
    if (s.failures >= BREAKER_THRESHOLD) {
      const doublings = Math.min(s.failures - BREAKER_THRESHOLD, 20);
      s.openUntil = this.now() + Math.min(BREAKER_MAX_OPEN_MS, this.opts.firstProbeMs * 2 ** doublings);
    }
  }

  /** How long until an open breaker lets a probe through (0 when it is not waiting for one). */
  reopensInMs(host: string): number {
    const s = this.hosts.get(host);
    return s ? Math.max(0, s.openUntil - this.now()) : 0;
  }

  /** Consecutive failures of a host so far (for the reason a deferred push records). */
  failuresOf(host: string): number {
    return this.hosts.get(host)?.failures ?? 0;
  }
}
