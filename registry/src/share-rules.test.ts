import { describe, expect, it } from 'vitest';
import { peakWeightW } from './share-rules';

const d = (s: string) => new Date(`${s}T00:00:00Z`);
const share = (weightW: number, from: string, until: string | null = null) => ({
  weightW,
  validFrom: d(from),
  validUntil: until ? d(until) : null,
});

describe('peakWeightW', () => {
  it('adds only the shares that overlap the candidate, at their busiest day', () => {
    const existing = [
      share(5000, '2026-01-01', '2026-03-01'),
      share(5000, '2026-02-15'),
      share(5000, '2025-01-01', '2026-01-01'),
    ];
    expect(peakWeightW(existing, share(1000, '2026-02-01', '2026-02-10'))).toBe(6000);
    expect(peakWeightW(existing, share(1000, '2026-02-01'))).toBe(11000);
    expect(peakWeightW(existing, share(1000, '2026-03-01'))).toBe(6000); // the first share ended the day before
    expect(peakWeightW([], share(5000, '2026-01-01'))).toBe(5000);
  });
});
