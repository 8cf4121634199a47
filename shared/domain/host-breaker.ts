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
  /** Per host, the pushes waiting for one of its POSTs to end (admitWithin), oldest first. */
  private readonly waiting = new Map<string, Array<(a: Admission) => void>>();
  /** When each host with pushes waiting last had a POST end. */
  private readonly lastSettled = new Map<string, number>();

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

  /**
   * As admit, but a push to a busy host waits, in order of arrival, for one of the host's POSTs to end: while
   * its POSTs keep ending (one at least every `idleMs`) up to `maxWaitMs`, and no longer than `idleMs` when
   * none does. A fast receiver's pushes take turns in this process instead of going round the queue; a
   * hanging one's soon go back to it, so that they hold no batch of other receivers' pushes for long.
   */
  admitWithin(host: string, idleMs: number, maxWaitMs: number): Promise<Admission> {
    const now = this.admit(host);
    if (now !== 'busy' || maxWaitMs <= 0) return Promise.resolve(now);
    const since = this.now();
    return new Promise((resolve) => {
      let queue = this.waiting.get(host);
      if (!queue) this.waiting.set(host, (queue = []));
      let timer: ReturnType<typeof setTimeout>;
      const wake = (a: Admission) => {
        clearTimeout(timer);
        resolve(a);
      };
      const giveUp = () => {
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        if (!queue.length) this.waiting.delete(host);
        resolve('busy');
      };
      const check = () => {
        const t = this.now();
        const moving = t - (this.lastSettled.get(host) ?? since) < idleMs;
        if (moving && t - since < maxWaitMs) timer = setTimeout(check, idleMs);
        else giveUp();
      };
      timer = setTimeout(check, idleMs);
      queue.push(wake);
    });
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
    } else {
      s.failures++;
      if (s.failures >= BREAKER_THRESHOLD) {
        const doublings = Math.min(s.failures - BREAKER_THRESHOLD, 20);
        s.openUntil = this.now() + Math.min(BREAKER_MAX_OPEN_MS, this.opts.firstProbeMs * 2 ** doublings);
      }
    }
    // The freed place goes to the oldest waiting push, admitted now; if the breaker has opened, every waiting
    // push is told at once (each then fails as an attempt not made, rather than waiting to be 'busy').
    const queue = this.waiting.get(host);
    if (!queue) return void this.lastSettled.delete(host);
    this.lastSettled.set(host, this.now());
    const admission = this.admit(host);
    const told = admission === 'open' ? queue.splice(0) : [queue.shift()!];
    if (!queue.length) this.waiting.delete(host);
    for (const wake of told) wake(admission);
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
