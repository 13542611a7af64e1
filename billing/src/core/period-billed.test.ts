import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billInstallation } from './bill-installation';
import { parseMaintenanceFee } from './deductions';
import { type BilledMonthOfDays, partsWithin, splitBilledMonth } from './period-billed';
import { formatMonth, type MonthId, monthDays, nextMonth } from '../../../lib/program/solar-hijri';
import { type ContractTerms, parseStepDowns } from '../../../lib/program/tariff';
import { priceEnergy } from './price-energy';

const stepDowns = parseStepDowns('8:90,12:80,16:70');
const rules = { stepDowns, maintenanceFee: parseMaintenanceFee('0%') };
const contract = (rialPerKwh: number, change?: { from: string; rialPerKwh: number }): ContractTerms[] => [
  {
    reference: 'C',
    kind: 'ORDINARY',
    startDate: '2019-03-01', // contract year 8 starts on 2026-03-01: a step-down inside some months
    periods: change
      ? [
          { from: '2019-03-01', until: change.from, rialPerKwh },
          { from: change.from, until: null, rialPerKwh: change.rialPerKwh },
        ]
      : [{ from: '2019-03-01', until: null, rialPerKwh }],
  },
];
/** What billing bills a month: billInstallation's gross on the month's days. */
const monthGross = (month: MonthId, days: { date: string; wh: number }[], contracts: ContractTerms[]) =>
  billInstallation(
    month,
    {
      installationId: 1,
      capacityW: 5000,
      days,
      contracts,
      loans: [],
      shares: [],
      adjustments: [],
      balanceInRials: 0n,
    },
    rules,
  ).grossRials;

/** A closed month as the ledger holds it after billing it: its days' energy and billInstallation's gross. */
const asBilled = (
  days: { date: string; wh: number }[],
  contracts: ContractTerms[],
  month: MonthId,
): BilledMonthOfDays => ({
  days,
  billed: { wh: days.reduce((a, d) => a + d.wh, 0), rials: monthGross(month, days, contracts) },
});

const months = fc
  .record({ year: fc.integer({ min: 1404, max: 1406 }), month: fc.integer({ min: 1, max: 12 }) })
  .map(({ year, month }) => formatMonth(year, month));
// The calendar through ICU is slow: each month's dates once.
const datesOf = new Map<MonthId, string[]>();
const monthDates = (month: MonthId) => {
  let dates = datesOf.get(month);
  if (!dates) {
    dates = monthDays(month).map((d) => d.date);
    datesOf.set(month, dates);
  }
  return dates;
};
const dailyWh = fc.integer({ min: 0, max: 40_000 });
const tariff = fc.integer({ min: 20_000, max: 40_000 });

describe('a settlement period billed as its months were billed (billing/README.md, "Reconciliation")', () => {
  it("a two-month period bills exactly its months' grosses, over 5,000 periods (priced at once, many differ by a Rial)", () => {
    let pricedAtOnceDiffers = 0;
    fc.assert(
      fc.property(months, tariff, fc.array(dailyWh, { minLength: 62, maxLength: 62 }), (first, rialPerKwh, energy) => {
        const contracts = contract(rialPerKwh);
        const pair = [first, nextMonth(first)];
        let k = 0;
        const byMonth = pair.map((m) => monthDates(m).map((date) => ({ date, wh: energy[k++ % 62]! })));
        const from = byMonth[0]![0]!.date;
        const lastDay = byMonth[1]![byMonth[1]!.length - 1]!.date;
        const until = monthDates(nextMonth(pair[1]!))[0]!;
        const billed = byMonth.flatMap((days, i) =>
          partsWithin(
            splitBilledMonth(asBilled(days, contracts, pair[i]!), [from, until], contracts, stepDowns),
            from,
            until,
          ).map((p) => ({ ...p, month: pair[i] })),
        );
        const expected = monthGross(pair[0]!, byMonth[0]!, contracts) + monthGross(pair[1]!, byMonth[1]!, contracts);
        expect(billed.reduce((a, p) => a + p.rials, 0n)).toBe(expected);
        expect(billed.map((p) => [p.fromDate, p.toDate])).toEqual([
          [from, byMonth[0]![byMonth[0]!.length - 1]!.date],
          [byMonth[1]![0]!.date, lastDay],
        ]);
        if (priceEnergy(byMonth.flat(), contracts, stepDowns).grossRials !== expected) pricedAtOnceDiffers++;
      }),
      { numRuns: 5_000, seed: 19_07 },
    );
    // The rule matters: priced over the whole period at once, about a quarter of the periods miss by a Rial.
    expect(pricedAtOnceDiffers).toBeGreaterThan(500);
  });

  it('a month cut by settlement periods is split so its parts add up to it to the Rial, each within a Rial of its own price', () => {
    fc.assert(
      fc.property(
        months,
        tariff,
        fc.option(fc.record({ day: fc.integer({ min: 1, max: 28 }), rialPerKwh: tariff }), { nil: undefined }),
        fc.array(dailyWh, { minLength: 31, maxLength: 31 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 28 }), { maxLength: 3 }),
        fc.bigInt({ min: -2_000_000n, max: 2_000_000n }),
        (month, rialPerKwh, change, energy, cutDays, adjustment) => {
          const days = monthDates(month).map((date, i) => ({ date, wh: energy[i]! }));
          const contracts = contract(
            rialPerKwh,
            change && { from: days[change.day]!.date, rialPerKwh: change.rialPerKwh },
          );
          const cuts = cutDays.map((d) => days[d]!.date);
          const priced = asBilled(days, contracts, month);
          expect(priced.billed.rials).toBe(priceEnergy(days, contracts, stepDowns).grossRials);
          // A closed month as the ledger holds it: its gross and a late-data adjustment (either sign).
          const recorded = { days, billed: { wh: priced.billed.wh + 1_234, rials: priced.billed.rials + adjustment } };
          for (const month of [priced, recorded]) {
            const parts = splitBilledMonth(month, cuts, contracts, stepDowns);
            expect(parts.reduce((a, p) => a + p.rials, 0n)).toBe(month.billed.rials);
            expect(parts.reduce((a, p) => a + p.wh, 0)).toBe(month.billed.wh);
            expect(parts.length).toBe(cuts.length + 1);
            // Whichever period asks, its parts are the same: the periods of the month add up to it.
            const bounds = [days[0]!.date, ...[...cuts].sort(), '9999-12-31'];
            const asked = bounds.slice(1).flatMap((until, i) => partsWithin(parts, bounds[i]!, until));
            expect(asked).toEqual(parts);
          }
          for (const part of splitBilledMonth(priced, cuts, contracts, stepDowns)) {
            const own = priceEnergy(
              days.filter((d) => d.date >= part.fromDate && d.date <= part.toDate),
              contracts,
              stepDowns,
            ).exactGross;
            const difference = part.rials * 100_000n - own;
            expect(difference < 0n ? -difference : difference).toBeLessThan(100_000n * 2n);
          }
        },
      ),
      { numRuns: 2_000, seed: 19 },
    );
  });
});
