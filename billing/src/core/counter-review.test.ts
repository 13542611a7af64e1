import { describe, expect, it } from 'vitest';
import { capacityBoundWh, energyInSlots } from './counter-energy';
import { type CounterReview, reviewedSlotWh } from './counter-review';

const H = 3_600_000;
const DAY = 24 * H;
const review = (decision: CounterReview['decision'], correctedWh: number | null = null): CounterReview => ({
  decision,
  correctedWh,
  reason: 'checked on site',
  decidedBy: 'operator',
  decidedAt: '2026-12-01T00:00:00Z',
});

describe('reviewedSlotWh: no decision bills more than the inverter could produce', () => {
  // A 5 kW counter at 13,948,402 Wh reads zero six times (a zero glitch one reading too long to be
  // ignored), then its lifetime count again: the return is held as a jump of the whole count.
  const days = Array.from({ length: 30 }, (_, i) => ({ startMs: i * DAY, endMs: (i + 1) * DAY }));
  const readings = Array.from({ length: 30 * 24 + 24 }, (_, h) => {
    const wh = 13_948_402 + Math.floor(h / 24) * 16_750 + Math.min(Math.max((h % 24) - 6, 0), 12) * 1395;
    return { tMs: (h - 12) * H, wh: h >= 200 && h < 206 ? 0 : wh };
  });
  const energy = energyInSlots(readings, days, { ratedAcW: 5000 });
  const bound = capacityBoundWh(5000, 30 * DAY);

  it('holds the jump, and ACCEPT bills at most the capacity bound of the month', () => {
    expect(energy.heldWh).toBeGreaterThan(13_000_000);
    const accepted = reviewedSlotWh(energy, review('ACCEPT'), bound);
    const total = accepted.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(bound);
    expect(total).toBe(bound);
  });

  it('ACCEPT of a plausible reading bills what was read; CORRECT bills its figure, EXCLUDE nothing', () => {
    expect(reviewedSlotWh(energy, review('EXCLUDE'), bound).every((wh) => wh === 0)).toBe(true);
    expect(reviewedSlotWh(energy, review('CORRECT', 500_000), bound).reduce((a, b) => a + b, 0)).toBe(500_000);
    const plain = energyInSlots(readings.slice(0, 190), days.slice(0, 7), { ratedAcW: 5000 });
    expect(reviewedSlotWh(plain, review('ACCEPT'), capacityBoundWh(5000, 7 * DAY))).toEqual(plain.readSlotWh);
  });
});
