import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateLargestRemainder } from './allocate-largest-remainder';

const parts = fc
  .uniqueArray(
    fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), weight: fc.bigInt({ min: 0n, max: 10n ** 12n }) }),
    { selector: (p) => p.id, minLength: 1, maxLength: 40 },
  )
  .filter((ps) => ps.some((p) => p.weight > 0n));

describe('allocateLargestRemainder', () => {
  it('breaks ties by numeric id: share 9 before share 10', () => {
    expect(
      allocateLargestRemainder(1n, [
        { id: '10', weight: 1n },
        { id: '9', weight: 1n },
        { id: 'pool', weight: 1n },
      ]),
    ).toEqual([
      { id: '10', amount: 0n },
      { id: '9', amount: 1n },
      { id: 'pool', amount: 0n },
    ]);
  });

  it('splits to the Rial with the largest remainders, ties to the larger weight then the smaller id', () => {
    expect(
      allocateLargestRemainder(100n, [
        { id: 'a', weight: 1n },
        { id: 'b', weight: 1n },
        { id: 'c', weight: 1n },
      ]),
    ).toEqual([
      { id: 'a', amount: 34n },
      { id: 'b', amount: 33n },
      { id: 'c', amount: 33n },
    ]);
    expect(
      allocateLargestRemainder(10n, [
        { id: 'x', weight: 1n },
        { id: 'y', weight: 2n },
        { id: 'z', weight: 3n },
      ]),
    ).toEqual([
      { id: 'x', amount: 2n },
      { id: 'y', amount: 3n },
      { id: 'z', amount: 5n },
    ]);
    expect(allocateLargestRemainder(0n, [{ id: 'a', weight: 0n }])).toEqual([{ id: 'a', amount: 0n }]);
  });

  it('refuses what has no meaning', () => {
    expect(() => allocateLargestRemainder(-1n, [{ id: 'a', weight: 1n }])).toThrow(/negative total/);
    expect(() => allocateLargestRemainder(5n, [{ id: 'a', weight: 0n }])).toThrow(/sum to zero/);
    expect(() => allocateLargestRemainder(5n, [{ id: 'a', weight: -1n }])).toThrow(/negative weight/);
    expect(() =>
      allocateLargestRemainder(5n, [
        { id: 'a', weight: 1n },
        { id: 'a', weight: 1n },
      ]),
    ).toThrow(/twice/);
  });

  it('always sums to the whole, never goes negative, stays within one Rial of the exact share, and ignores input order', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), parts, (total, ps) => {
        const result = allocateLargestRemainder(total, ps);
        const sum = ps.reduce((s, p) => s + p.weight, 0n);
        expect(result.reduce((s, r) => s + r.amount, 0n)).toBe(total);
        for (const [i, r] of result.entries()) {
          expect(r.amount >= 0n).toBe(true);
          const exactFloor = (total * ps[i]!.weight) / sum;
          expect(r.amount - exactFloor === 0n || r.amount - exactFloor === 1n).toBe(true);
        }
        const shuffled = allocateLargestRemainder(total, [...ps].reverse());
        expect(Object.fromEntries(shuffled.map((r) => [r.id, r.amount]))).toEqual(
          Object.fromEntries(result.map((r) => [r.id, r.amount])),
        );
      }),
      { numRuns: 300 },
    );
  });
});
