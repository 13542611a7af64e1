import { describe, expect, it } from 'vitest';
import { sinceTehranMidnightMs, TEHRAN_TIME_ZONE, tehranDate, tehranHour, tehranMidnight } from './tehran-time';

const H = 3_600_000;

describe("the program's clock", () => {
  it('cuts days at Tehran midnight, 20:30 UTC', () => {
    expect(tehranDate(Date.parse('2026-11-21T20:29:59Z'))).toBe('2026-11-21');
    expect(tehranDate(Date.parse('2026-11-21T20:30:00Z'))).toBe('2026-11-22');
    expect(tehranMidnight('2026-11-22')).toBe(Date.parse('2026-11-21T20:30:00Z'));
    expect(tehranHour(Date.parse('2026-06-21T08:30:00Z'))).toBe(12);
    expect(sinceTehranMidnightMs(Date.parse('2026-06-21T02:30:00Z'))).toBe(6 * H);
  });

  it("agrees with the zone's own rules (ICU) every half hour since Iran ended summer time", () => {
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: TEHRAN_TIME_ZONE, dateStyle: 'short' });
    const hour = new Intl.DateTimeFormat('en-GB', { timeZone: TEHRAN_TIME_ZONE, hour: '2-digit', hourCycle: 'h23' });
    // From the first day of 1402 (no summer time any more) over ten years, at a prime stride.
    for (let t = Date.parse('2023-03-21T00:00:00Z'); t < Date.parse('2033-03-21T00:00:00Z'); t += 7 * H + 30 * 60_000) {
      expect(tehranDate(t)).toBe(day.format(t));
      expect(tehranHour(t)).toBe(Number(hour.format(t)));
    }
  });
});
