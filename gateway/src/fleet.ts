// A gateway is one of a fleet that shares one broker and one ingest. When the broker restarts, every
// gateway loses its connection at the same instant; if each retried at once (or within the same
// second), the broker would face the whole fleet's TLS handshakes together, time most of them out,
// and the back-off would then stretch everyone's wait to minutes. So each gateway spreads its
// reconnects over a window sized to the fleet (the fleet's gateways at the pace the broker
// handshakes), and paces the catch-up of its outbox to its share of what ingest takes, so the
// fleet's backlogs arriving together do not flood ingest either. No coordination is needed: each
// gateway's share is 1/gateways of the fleet's budget.

export interface Fleet {
  /** Gateways sharing the broker (set it to the program's count, rounded up; too high only slows reconnects). */
  gateways: number;
  /** TLS handshakes per second the broker takes from the whole fleet while it comes back. */
  connectsPerSecond: number;
  /** Readings per second the whole fleet's catch-up may send to ingest (on top of the live readings). */
  readingsPerSecond: number;
}

/**
 * Defaults: 2,000 gateways (the issue's fleet; the program's 35 MW is 7,000 households at 5 kW, most
 * behind shared plants' gateways), 20 handshakes/s (a tenth of what one Mosquitto core handshakes on
 * a quiet machine, since on a loaded one far fewer finish within the 15 s connect timeout:
 * BENCHMARKS.md, bench:gateway-restart) and 10,000 readings/s (under half of one ingest worker's
 * measured rate, which also carries the live fleet).
 */
export const DEFAULT_FLEET: Fleet = { gateways: 2000, connectsPerSecond: 20, readingsPerSecond: 10_000 };

/** The spread of the fleet's reconnects: every gateway at the broker's pace, ms. */
export function reconnectWindowMs(fleet: Fleet): number {
  return Math.ceil((fleet.gateways / fleet.connectsPerSecond) * 1000);
}

/**
 * A gateway's share of the fleet's catch-up budget, readings/s: never below twice its own live rate
 * (else a backlog could never shrink while it keeps polling).
 */
export function catchUpReadingsPerSecond(fleet: Fleet, liveReadingsPerSecond: number): number {
  return Math.max(fleet.readingsPerSecond / fleet.gateways, 2 * liveReadingsPerSecond);
}

/**
 * The catch-up pace of a gateway reading `inverters` every `pollMs`: its share of the fleet's
 * budget, a minute of it at once (so live polls never wait).
 */
export function catchUpPace(
  fleet: Fleet,
  inverters: number,
  pollMs: number,
): { readingsPerSecond: number; burstReadings: number } {
  const readingsPerSecond = catchUpReadingsPerSecond(fleet, (inverters * 1000) / pollMs);
  return { readingsPerSecond, burstReadings: Math.max(readingsPerSecond * 60, 2 * inverters) };
}

/**
 * Reconnect attempt `attempt` after a lost connection (0: the first): full jitter (AWS architecture
 * blog) over [0, min(maxMs, base × 2^attempt)), base the larger of initialMs and the fleet's window.
 * The first attempts of a fleet whose broker restarted are then uniform over the window (the peak
 * stays near connectsPerSecond), and those that fail spread over twice as long each time.
 */
export function backoffDelay(
  attempt: number,
  backoff: { initialMs: number; maxMs: number; windowMs?: number },
  random = Math.random,
): number {
  const base = Math.max(backoff.initialMs, backoff.windowMs ?? 0);
  return Math.floor(random() * Math.min(backoff.maxMs, base * 2 ** Math.min(attempt, 30)));
}

/** The most instants (ms) within one whole second: how a fleet's reconnect peak is judged. */
export function peakPerSecond(instantsMs: number[]): number {
  const perSecond = new Map<number, number>();
  for (const t of instantsMs) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...perSecond.values());
}

/**
 * A token bucket of readings: `take(n)` resolves at once while the bucket holds tokens (the last
 * take may overdraw it, so any batch fits) and otherwise once it has refilled above zero. A gateway
 * polling within its live rate never waits; a backlog leaves at `perSecond`.
 */
export class ReadingPacer {
  private tokens: number;
  private atMs: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.atMs = now();
  }

  /** How long until `take` would go ahead (0: now). */
  waitMs(): number {
    const nowMs = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.atMs) / 1000) * this.perSecond);
    this.atMs = nowMs;
    return this.tokens > 0 ? 0 : Math.max(1, Math.ceil((-this.tokens / this.perSecond) * 1000));
  }

  /** Rejects when `signal` aborts first (the publisher stopping must not wait out a backlog's pace). */
  async take(readings: number, signal?: AbortSignal): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', abort);
          resolve();
        }, wait);
        const abort = () => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', abort, { once: true });
      });
    }
    this.tokens -= readings;
  }
}
