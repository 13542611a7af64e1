// Which days of the daily rollup's counters make an installation's daily energy: no servers.
import { describe, expect, it } from 'vitest';
import { tehranMidnight } from '../../../lib/program/tehran-time';
import { installationDays } from './daily-energy';
import type { InstallationInfo } from './types';

const installation = {
  id: 1,
  inverters: [
    { id: 1, serial: 'A', ratedAcW: 5000 },
    { id: 2, serial: 'B', ratedAcW: 5000 },
  ],
} as InstallationInfo;
const dates = ['2026-06-17', '2026-06-18', '2026-06-19', '2026-06-20'];
const history = (a: number[], b: number[]) =>
  dates.map((date, k) => ({
    date,
    startMs: tehranMidnight(date),
    counters: new Map([
      ['A', a[k]!],
      ['B', b[k]!],
    ]),
  }));
const B = [50_000, 80_000, 110_000, 140_000];
const energy = (a: number[], replaced: Record<string, number[]> = {}) =>
  installationDays([installation], history(a, B), new Map(Object.entries(replaced))).get(1);

describe('installationDays', () => {
  it('sums each day’s counter rise over the inverters, leaving out a day with a counter gone backwards', () => {
    expect(energy([100_000, 130_000, 160_000, 190_000])).toEqual([
      { date: '2026-06-18', wh: 60_000 },
      { date: '2026-06-19', wh: 60_000 },
      { date: '2026-06-20', wh: 60_000 },
    ]);
    expect(energy([100_000, 130_000, 1_000, 31_000])?.map((d) => d.date)).toEqual(['2026-06-18', '2026-06-20']);
  });

  it('leaves out a day across a recorded replacement, even by a used inverter whose counter is higher', () => {
    // A's inverter swapped at 10:00 Tehran on the 19th for a used one at 2,000,000 Wh.
    const swapped = [100_000, 130_000, 2_020_000, 2_050_000];
    const at = (iso: string) => ({ A: [Date.parse(iso)] });
    // Without a record it reads as 1.9 MWh produced on the 19th (what the rules were given).
    expect(energy(swapped)?.find((d) => d.date === '2026-06-19')?.wh).toBe(1_920_000);
    // The 19th and the 20th are left out: the 19th's last counter may be the old inverter's (the new
    // one reporting only the next day).
    expect(energy(swapped, at('2026-06-19T06:30:00Z'))).toEqual([{ date: '2026-06-18', wh: 60_000 }]);
    // Swapped late on the 18th: the 18th and the 19th are left out.
    expect(energy(swapped, at('2026-06-18T19:00:00Z'))).toEqual([{ date: '2026-06-20', wh: 60_000 }]);
    // A replacement before the window, or of another serial, changes nothing.
    expect(energy([100_000, 130_000, 160_000, 190_000], at('2026-06-10T06:30:00Z'))).toHaveLength(3);
    expect(
      installationDays([installation], history([100_000, 130_000, 160_000, 190_000], B), new Map([['C', [0]]])).get(1),
    ).toHaveLength(3);
  });
});
