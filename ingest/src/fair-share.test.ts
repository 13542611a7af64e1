import { describe, expect, it } from 'vitest';
import { FairShareLimiter } from './fair-share';
import { RejectionBudget } from './rejection-budget';

const share = { messagesPerSecond: 1, messageBurst: 5, bytesPerSecond: 1000, byteBurst: 10_000 };

describe("a device's fair share", () => {
  it('lets a burst through, then the sustained rate, per device', () => {
    const limiter = new FairShareLimiter(share);
    for (let i = 0; i < 5; i++) expect(limiter.admit('A', 100, 0)).toBeNull();
    expect(limiter.admit('A', 100, 0)).toMatch(/over the device's fair share of 1 message\(s\)\/s \(bursts of 5\)/);
    expect(limiter.admit('B', 100, 0)).toBeNull(); // another device's share is its own
    expect(limiter.admit('A', 100, 1000)).toBeNull(); // one more a second later
    expect(limiter.admit('A', 100, 1000)).not.toBeNull();
  });

  it('bounds bytes too: a flush of large arrays passes in a burst, a stream of them does not', () => {
    const limiter = new FairShareLimiter(share);
    expect(limiter.admit('A', 9000, 0)).toBeNull();
    expect(limiter.admit('A', 9000, 0)).toMatch(/1000 bytes\/s/);
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
});

describe('rejection records per device (no amplification)', () => {
  it('stores a burst, then 10 a minute, and says how many were left out', () => {
    const budget = new RejectionBudget({ perMinute: 10, burst: 3 });
    expect([0, 0, 0].map(() => budget.take('A', 0))).toEqual([0, 0, 0]);
    expect(budget.take('A', 0)).toBeNull();
    expect(budget.take('A', 1000)).toBeNull();
    expect(budget.take('B', 1000)).toBe(0);
    expect(budget.take('A', 6000)).toBe(2); // a token every 6 s; two were left out before it
    budget.prune(60_000);
    expect(budget.size).toBe(0);
  });
});
