import { describe, expect, it } from 'vitest';
import {
  dayNameFa,
  monthBounds,
  monthDates,
  monthDays,
  monthNameFa,
  monthOf,
  nextMonth,
  parseMonth,
  previousMonth,
} from './solar-hijri';

describe('Solar Hijri billing months', () => {
  it('knows Aban 1405 in Tehran time', () => {
    expect(monthBounds('1405-08')).toEqual({
      month: '1405-08',
      days: 30,
      startMs: Date.parse('2026-10-22T20:30:00Z'), // 1 Aban 1405 00:00 +03:30
      endMs: Date.parse('2026-11-21T20:30:00Z'),
    });
    expect(monthOf(Date.parse('2026-11-25T12:00:00Z'))).toBe('1405-09');
  });

  it('uses the daylight-saving offset Iran had before 2022', () => {
    // 1 Mehr 1400 began at 00:00 +03:30 (DST ended the night before); 1 Ordibehesht 1400 at 00:00 +04:30.
    expect(monthBounds('1400-07').startMs).toBe(Date.parse('2021-09-22T20:30:00Z'));
    expect(monthBounds('1400-02').startMs).toBe(Date.parse('2021-04-20T19:30:00Z'));
  });

  it('tiles time without gaps or overlaps, agreeing with ICU, for fifty years', () => {
    let month = '1380-01';
    let previousEnd = monthBounds(month).startMs;
    while (month !== '1430-01') {
      const b = monthBounds(month);
      expect(b.startMs, month).toBe(previousEnd);
      expect(monthOf(b.startMs), month).toBe(month);
      expect(monthOf(b.startMs - 1), month).toBe(previousMonth(month));
      expect(monthOf(b.endMs - 1), month).toBe(month);
      expect(b.days).toBe(parseMonth(month).month <= 6 ? 31 : parseMonth(month).month <= 11 ? 30 : b.days);
      expect([29, 30, 31]).toContain(b.days);
      previousEnd = b.endMs;
      month = nextMonth(month);
    }
  });

  it("gives a month's dates from ICU once: a statement page asks on every request", () => {
    expect(monthDates('1405-08')).toEqual(monthDays('1405-08').map((d) => d.date));
    expect(monthDates('1405-08')).toHaveLength(30);
    expect(monthDates('1405-08').at(-1)).toBe('2026-11-21');
    // Computed once: the same (read-only) array each time, no ICU look-up after the first.
    expect(monthDates('1405-08')).toBe(monthDates('1405-08'));
  });

  it('names what is wrong with a month id', () => {
    expect(() => parseMonth('1405-13')).toThrow(/01 to 12/);
    expect(() => parseMonth('Aban')).toThrow(/YYYY-MM/);
    expect(() => parseMonth('2026-11')).toThrow(/between 1300 and 1500/);
  });
});

describe('Persian names of months and days', () => {
  it('names months from ICU, with the year in Persian digits', () => {
    expect(monthNameFa('1405-01')).toBe('فروردین ۱۴۰۵');
    expect(monthNameFa('1405-07')).toBe('مهر ۱۴۰۵');
    expect(monthNameFa('1405-08')).toBe('آبان ۱۴۰۵');
    expect(monthNameFa('1405-12')).toBe('اسفند ۱۴۰۵');
    expect(monthNameFa('1399-12')).toBe('اسفند ۱۳۹۹'); // a leap Esfand (30 days)
  });

  it('names days in Tehran time', () => {
    expect(dayNameFa(Date.parse('2026-11-25T12:00:00Z'))).toBe('۴ آذر ۱۴۰۵');
    // 20:29 UTC on 21 Nov 2026 is still 30 Aban in Tehran; 20:31 is 1 Azar.
    expect(dayNameFa(Date.parse('2026-11-21T20:29:00Z'))).toBe('۳۰ آبان ۱۴۰۵');
    expect(dayNameFa(Date.parse('2026-11-21T20:31:00Z'))).toBe('۱ آذر ۱۴۰۵');
  });
});
