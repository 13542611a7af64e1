import { describe, expect, it } from 'vitest';
import { billedGapMs, lateChangeHold } from './late-data-rule';

const H = 3_600_000;
const START = 0;
const END = 720 * H;
const change = (over: Partial<Parameters<typeof lateChangeHold>[0]> = {}) => ({
  deltaWh: 3000,
  inverters: [
    {
      serial: 'INV',
      ratedAcW: 5000,
      billed: { readings: [], flags: [{ kind: 'no_closing_reading', lastReadingAt: END - 6 * H }] },
    },
  ],
  changedReadings: [],
  implausibleNow: false,
  startMs: START,
  endMs: END,
  ...over,
});

describe('late data rule: evidence, not money', () => {
  it('measures the gap the month was billed across from its missing-data flags', () => {
    const gap = (flags: { kind: string; firstReadingAt?: number; lastReadingAt?: number; at?: number }[]) =>
      billedGapMs({ readings: [], flags }, START, END) / H;
    expect(gap([{ kind: 'no_readings' }])).toBe(720);
    expect(gap([{ kind: 'no_opening_reading', firstReadingAt: 10 * H }])).toBe(10);
    expect(gap([{ kind: 'no_closing_reading', lastReadingAt: END - 6 * H }])).toBe(6);
    expect(gap([{ kind: 'counter_reset', at: 5 * H }])).toBe(0);
  });

  it('pays a gap fill within 35 % of the rating over the gap, and holds everything else with the reason', () => {
    expect(lateChangeHold(change())).toBeNull();
    expect(lateChangeHold(change({ deltaWh: 10_501 }))).toMatch(/more than 35 % .* \(10500 Wh\)/);
    expect(lateChangeHold(change({ changedReadings: ['INV at … was 1 Wh, now 2'] }))).toMatch(
      /readings the month was billed from changed: INV at/,
    );
    expect(lateChangeHold(change({ implausibleNow: true }))).toMatch(/more than the inverters could produce/);
    const noGap = change({ inverters: [{ serial: 'INV', ratedAcW: 5000, billed: { readings: [], flags: [] } }] });
    expect(lateChangeHold(noGap)).toMatch(/billed with no gap/);
    expect(lateChangeHold(change({ inverters: [{ serial: 'NEW', ratedAcW: 5000, billed: undefined }] }))).toMatch(
      /not billed from/,
    );
  });
});
