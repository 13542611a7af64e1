import { describe, expect, it } from 'vitest';
import { peakWeightW, shareBreach } from './share-rules';

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

describe('shareBreach', () => {
  const held = (beneficiaryId: number, weightW: number, from: string, until: string | null = null) => ({
    beneficiaryId,
    ...share(weightW, from, until),
  });
  it("names the rule a new share would break: its end, the person's overlap, the capacity", () => {
    const existing = [held(1, 3000, '2026-01-01'), held(2, 2000, '2026-01-01', '2026-06-01')];
    expect(shareBreach(5000, existing, held(3, 1000, '2026-03-01', '2026-02-01'))?.field).toBe('validUntil');
    expect(shareBreach(9000, existing, held(1, 1000, '2026-05-01'))?.field).toBe('validFrom');
    expect(shareBreach(5000, existing, held(3, 1000, '2026-05-01'))).toEqual({
      field: 'weightW',
      message: "shares would reach 6000 W on some day, above the installation's 5000 W",
    });
    expect(shareBreach(5000, existing, held(3, 2000, '2026-06-01'))).toBeNull(); // the second share has ended
  });
});
