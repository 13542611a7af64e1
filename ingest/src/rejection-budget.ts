// How many rejection records one device may cost: a token bucket per device (unregistered serials
// share one, so a stranger's made-up serials cannot grow it). Over budget, a rejection is counted
// (metrics) but not stored; the device's next stored record says how many were left out. A device
// flooding bad messages therefore costs at most `perMinute` points a minute, after a `burst`.

export const REJECTION_BUDGET = { perMinute: 10, burst: 20 };
/** The one bucket every unregistered serial (and a bad topic) shares. */
export const UNREGISTERED = '(unregistered)';

interface Bucket {
  tokens: number;
  atMs: number;
  unrecorded: number;
}

export class RejectionBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits = REJECTION_BUDGET) {}

  /** Null: over budget, do not store it. Otherwise how many of this key's were not stored before it. */
  take(key: string, nowMs: number): number | null {
    const bucket = this.buckets.get(key) ?? { tokens: this.limits.burst, atMs: nowMs, unrecorded: 0 };
    this.buckets.set(key, bucket);
    bucket.tokens = Math.min(
      this.limits.burst,
      bucket.tokens + ((nowMs - bucket.atMs) * this.limits.perMinute) / 60_000,
    );
    bucket.atMs = nowMs;
    if (bucket.tokens < 1) {
      bucket.unrecorded += 1;
      return null;
    }
    bucket.tokens -= 1;
    const before = bucket.unrecorded;
    bucket.unrecorded = 0;
    return before;
  }

  /** Forgets buckets that are full again and owe no count (bounded state). */
  prune(nowMs: number): void {
    for (const [key, b] of this.buckets)
      if (b.unrecorded === 0 && b.tokens + ((nowMs - b.atMs) * this.limits.perMinute) / 60_000 >= this.limits.burst)
        this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
