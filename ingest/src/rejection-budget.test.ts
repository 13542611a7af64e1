import { describe, expect, it } from 'vitest';
import { RejectionBudget } from './rejection-budget';

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
