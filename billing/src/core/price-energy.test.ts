import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ContractTerms, parseStepDowns, rateOn } from '../../../lib/program/tariff';
import { priceEnergy, rateChangeDates } from './price-energy';

const stepDowns = parseStepDowns('8:90,12:80,16:70');
const contract = (kind: ContractTerms['kind'], startDate = '2020-03-20'): ContractTerms => ({
  reference: 'C-1',
  kind,
  startDate,
  periods: [
    { from: '2020-03-20', until: '2026-11-06', rialPerKwh: 25_000 },
    { from: '2026-11-06', until: null, rialPerKwh: 38_500 },
  ],
});

describe('pricing a stretch of days', () => {
  it('splits a month at a mid-month tariff change and a step-down, and leaves days without a tariff unpriced', () => {
    const days = ['2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'].map((date) => ({ date, wh: 10_000 }));
    const priced = priceEnergy(days, [contract('SUPPORT')], stepDowns);
    expect(priced.segments.map((s) => [s.fromDate, s.toDate, s.wh, s.rialPerKwh, s.rials])).toEqual([
      ['2026-11-04', '2026-11-05', 20_000, 25_000, 500_000n],
      ['2026-11-06', '2026-11-07', 20_000, 38_500, 770_000n],
    ]);
    expect(priced.grossRials).toBe(1_270_000n);
    const stepping = priceEnergy(
      [
        { date: '2027-03-19', wh: 1000 },
        { date: '2027-03-20', wh: 1000 },
      ],
      [contract('ORDINARY')],
      stepDowns,
    );
    expect(stepping.segments.map((s) => [s.percent, s.rials])).toEqual([
      [100, 38_500n],
      [90, 34_650n],
    ]);
    expect(priceEnergy(days, [], stepDowns)).toEqual({
      segments: [],
      exactGross: 0n,
      unpricedWh: 40_000,
      grossRials: 0n,
    });
  });

  it('finds the days on which the price changes', () => {
    const dates = ['2027-03-18', '2027-03-19', '2027-03-20', '2027-03-21'];
    expect(rateChangeDates(dates, [contract('ORDINARY')], stepDowns)).toEqual(['2027-03-20']);
    expect(rateChangeDates(dates, [contract('SUPPORT')], stepDowns)).toEqual([]);
    expect(rateChangeDates(['2026-11-05', '2026-11-06'], [contract('SUPPORT')], stepDowns)).toEqual(['2026-11-06']);
    expect(rateChangeDates(dates, [], stepDowns)).toEqual([]);
  });

  it('looks a rate up only where it can change: the same change dates and segments as day by day, for any contracts', () => {
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
    const terms = fc.record({
      kind: fc.constantFrom<ContractTerms['kind']>('ORDINARY', 'SUPPORT'),
      start: fc.integer({ min: -4000, max: 400 }),
      cuts: fc.uniqueArray(fc.integer({ min: -10, max: 400 }), { maxLength: 3 }),
      rates: fc.array(fc.constantFrom(25_000, 38_500), { minLength: 4, maxLength: 4 }),
      ends: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(terms, { maxLength: 3 }), fc.integer({ min: 0, max: 300 }), (specs, first) => {
        const contracts: ContractTerms[] = specs
          .map((t, k) => {
            const bounds = [t.start, ...t.cuts.filter((c) => c > t.start).sort((a, b) => a - b)];
            return {
              reference: `C-${k}`,
              kind: t.kind,
              startDate: day(t.start),
              periods: bounds.map((from, i) => ({
                from: day(from),
                until: i + 1 < bounds.length ? day(bounds[i + 1]!) : t.ends ? day(from + 30) : null,
                rialPerKwh: t.rates[i]!,
              })),
            };
          })
          .sort((a, b) => (a.startDate < b.startDate ? -1 : 1));
        const dates = Array.from({ length: 62 }, (_, i) => day(first + i));
        const rates = dates.map((d) => {
          const c = contracts.filter((x) => x.startDate <= d).at(-1);
          const r = c ? rateOn(c, d, stepDowns) : null;
          return r && c ? `${c.reference}/${r.rialPerKwh}/${r.percent}` : null;
        });
        expect(rateChangeDates(dates, contracts, stepDowns)).toEqual(
          dates.filter((_d, i) => i > 0 && rates[i] !== rates[i - 1]),
        );
        // Priced with a rate looked up only where it can change: the segments of a day-by-day lookup.
        const segments: { key: string; fromDate: string; toDate: string; wh: number }[] = [];
        let unpricedWh = 0;
        dates.forEach((date, i) => {
          const c = contracts.filter((x) => x.startDate <= date).at(-1);
          const r = c ? rateOn(c, date, stepDowns) : null;
          const key = r && c ? `${c.reference}/${r.rialPerKwh}/${r.percent}/${r.contractYear}` : null;
          const last = segments.at(-1);
          if (key === null) unpricedWh += i + 1;
          else if (last?.key === key && last.toDate === dates[i - 1]) {
            last.toDate = date;
            last.wh += i + 1;
          } else segments.push({ key, fromDate: date, toDate: date, wh: i + 1 });
        });
        const priced = priceEnergy(
          dates.map((date, i) => ({ date, wh: i + 1 })),
          contracts,
          stepDowns,
        );
        expect(priced.unpricedWh).toBe(unpricedWh);
        expect(
          priced.segments.map((x) => ({
            key: `${x.contract}/${x.rialPerKwh}/${x.percent}/${x.contractYear}`,
            fromDate: x.fromDate,
            toDate: x.toDate,
            wh: x.wh,
          })),
        ).toEqual(segments);
      }),
      { numRuns: 300 },
    );
  });

  it('rounds the gross once from the exact price of every segment', () => {
    // Three segments of 5 Wh at 100 / 101 / 100 Rial/kWh: 0.5 + 0.505 + 0.5 = 1.505 Rials (3 rounded per segment).
    const three: ContractTerms = {
      reference: 'C-3',
      kind: 'SUPPORT',
      startDate: '2026-01-01',
      periods: [
        { from: '2026-01-01', until: '2026-01-02', rialPerKwh: 100 },
        { from: '2026-01-02', until: '2026-01-03', rialPerKwh: 101 },
        { from: '2026-01-03', until: null, rialPerKwh: 100 },
      ],
    };
    const priced = priceEnergy(
      ['2026-01-01', '2026-01-02', '2026-01-03'].map((date) => ({ date, wh: 5 })),
      [three],
      stepDowns,
    );
    expect(priced.grossRials).toBe(2n);
    expect(priced.segments.map((s) => s.rials).reduce((a, b) => a + b, 0n)).toBe(2n);
  });
});
