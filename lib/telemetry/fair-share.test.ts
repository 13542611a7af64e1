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

  it("forgives the receiver's own absence once: the backlog the broker queued meanwhile is not a flood", () => {
    const limiter = new FairShareLimiter(share);
    for (let i = 0; i < 5; i++) expect(limiter.admit('A', 100, 0)).toBeNull();
    expect(limiter.admit('A', 100, 0)).not.toBeNull();
    // Ingest took nothing for 20 s: A queued 20 messages (at its 1/s), B too, and both arrive at once.
    limiter.forgive(20, 20_000);
    const arrived = (serial: string) =>
      Array.from({ length: 25 }, () => limiter.admit(serial, 100, 20_000)).filter((r) => r === null).length;
    expect(arrived('A')).toBe(5 + 20); // its bucket refilled to the burst, plus the forgiven 20 s
    expect(arrived('B')).toBe(5 + 20); // a device new to this receiver too
    expect(limiter.admit('A', 100, 20_000)).not.toBeNull(); // once only
    limiter.forgive(10 * 3600, 30_000);
    expect(limiter.waitMs('C', 100, 30_000)).toBe(0);
    expect(Array.from({ length: 4000 }, () => limiter.admit('C', 1, 30_000)).filter((r) => r === null)).toHaveLength(
      5 + 3600,
    ); // at most an hour of the share, however long the absence
    // After the backlog's time it is over: a new device gets its burst only.
    expect(
      Array.from({ length: 10 }, () => limiter.admit('D', 1, 30_000 + 3_600_000)).filter((r) => r === null),
    ).toHaveLength(5);
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
