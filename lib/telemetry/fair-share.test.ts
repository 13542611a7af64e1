import { describe, expect, it } from 'vitest';
import { DEVICE_FAIR_SHARE, DevicePacer, FairShareLimiter, PUBLISHER_PACE } from './fair-share';

const share = { messagesPerSecond: 1, messageBurst: 5, bytesPerSecond: 1000, byteBurst: 10_000 };

describe("a device's fair share", () => {
  it('lets a burst through, then the sustained rate, per device', () => {
    const limiter = new FairShareLimiter(share);
    for (let i = 0; i < 5; i++) expect(limiter.admit('A', 100, 0)).toBeNull();
    expect(limiter.admit('A', 100, 0)).toMatch(/over the device's fair share of 1 message\(s\)\/s \(bursts of 5\)/);
    expect(limiter.admit('B', 100, 0)).toBeNull(); // another device's share is its own
    expect(limiter.waitMs('A', 100, 0)).toBe(1000);
    expect(limiter.admit('A', 100, 1000)).toBeNull(); // one more a second later
    expect(limiter.admit('A', 100, 1000)).not.toBeNull();
  });

  it('bounds bytes too: a flush of large arrays passes in a burst, a stream of them does not', () => {
    const limiter = new FairShareLimiter(share);
    expect(limiter.admit('A', 9000, 0)).toBeNull();
    expect(limiter.admit('A', 9000, 0)).toMatch(/1000 bytes\/s/);
    expect(limiter.waitMs('A', 9000, 0)).toBe(8000);
    expect(limiter.admit('A', 9000, 9000)).toBeNull();
  });

  it('forgets devices whose share is whole again', () => {
    const limiter = new FairShareLimiter(share);
    limiter.admit('A', 100, 0);
    limiter.prune(500);
    expect(limiter.size).toBe(1);
    limiter.prune(60_000);
    expect(limiter.size).toBe(0);
  });

  it('a paced publisher stays within the share as ingest sees it, even when its messages arrive bunched', async () => {
    // What the publisher paces to leaves half of each burst for the broker's queue.
    expect(PUBLISHER_PACE.messageBurst * 2).toBe(DEVICE_FAIR_SHARE.messageBurst);
    expect(PUBLISHER_PACE.bytesPerSecond).toBeLessThan(DEVICE_FAIR_SHARE.bytesPerSecond);
    const pace = { messagesPerSecond: 40, messageBurst: 5, bytesPerSecond: 1_000_000, byteBurst: 1_000_000 };
    const pacer = new DevicePacer(pace);
    const sentAt: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 15; i++) {
      await pacer.take('A', 100);
      sentAt.push(Date.now());
    }
    // 5 at once, then 10 at 40/s: about a quarter of a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(pacer.waitedMs).toBeGreaterThan(0);
    // Ingest's share (twice the burst) admits them all even when the first 100 ms of them arrive at once.
    const ingest = new FairShareLimiter({ ...pace, messageBurst: 10 });
    const bunched = sentAt[0]! + 100;
    expect(sentAt.map((t) => ingest.admit('A', 100, Math.max(t, bunched)))).toEqual(sentAt.map(() => null));
  });
});
