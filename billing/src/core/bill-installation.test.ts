import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beneficiaryTotal, billInstallation, type InstallationMonth } from './bill-installation';
import { loanDeduction, monthElapsed, parseMaintenanceFee } from './deductions';
import { monthBounds, monthDays } from '../../../lib/program/solar-hijri';
import { parseStepDowns } from '../../../lib/program/tariff';

const rules = { stepDowns: parseStepDowns('8:90,12:80,16:70'), maintenanceFee: parseMaintenanceFee('2%') };
const dates = monthDays('1405-08').map((d) => d.date);
const base = (over: Partial<InstallationMonth> = {}): InstallationMonth => ({
  installationId: 7,
  capacityW: 15_000,
  days: dates.map((date) => ({ date, wh: 60_000 })),
  contracts: [
    {
      reference: 'C-7',
      kind: 'SUPPORT',
      startDate: '2025-01-01',
      periods: [{ from: '2025-01-01', until: null, rialPerKwh: 30_000 }],
    },
  ],
  loans: [
    {
      loanId: 1,
      reference: 'L-7',
      principalRials: 1_680_000_000n,
      installmentRials: 20_000_000n,
      installments: 84,
      firstDueMonth: '1405-01',
      repaidRials: 140_000_000n,
    },
  ],
  shares: [
    { shareId: 1, beneficiaryId: 101, weightW: 5000, validFrom: '2025-01-01', validUntil: null },
    { shareId: 2, beneficiaryId: 102, weightW: 5000, validFrom: dates[10]!, validUntil: null }, // joins on day 11
    { shareId: 3, beneficiaryId: 103, weightW: 5000, validFrom: '2025-01-01', validUntil: dates[20]! }, // leaves after day 20
  ],
  adjustments: [],
  balanceInRials: 0n,
  ...over,
});

describe('billInstallation', () => {
  it('goes from kWh to each share, every step its own line, adding up to the Rial', () => {
    const bill = billInstallation('1405-08', base(), rules);
    expect(bill.energyWh).toBe(30 * 60_000);
    expect(bill.grossRials).toBe(54_000_000n); // 1,800 kWh × 30,000
    expect(bill.loans[0]).toMatchObject({ installmentsDue: 8, owedRials: 20_000_000n, deductedRials: 20_000_000n });
    expect(bill.feeRials).toBe(1_080_000n);
    expect(bill.netRials).toBe(54_000_000n - 20_000_000n - 1_080_000n);
    expect(bill.shares.map((s) => [s.beneficiaryId, s.activeDays])).toEqual([
      [101, 30],
      [102, 20],
      [103, 20],
    ]);
    // Days 1–10 and 21–30 each have 5 kW unheld: 20 × 5,000 vacant watt-days, the same as share 102's.
    expect(bill.pool.vacantWattDays).toBe(100_000);
    expect(bill.shares[1]!.rials - bill.pool.rials).toBe(1n); // equal weights: the tie's Rial goes to the share
    expect(bill.shares.reduce((s, a) => s + a.rials, 0n) + bill.pool.rials).toBe(bill.netRials);
  });

  it('carries a negative adjustment larger than the income as a balance, paying nobody less than zero', () => {
    const bill = billInstallation(
      '1405-08',
      base({
        days: dates.map((date) => ({ date, wh: 0 })),
        adjustments: [{ forMonth: '1405-07', wh: -1000, rials: -30_000n, reason: 'late data' }],
      }),
      rules,
    );
    expect(bill).toMatchObject({ incomeRials: -30_000n, netRials: 0n, balanceOutRials: -30_000n, feeRials: 0n });
    expect(bill.loans[0]!.shortfallRials).toBe(20_000_000n);
  });

  it('carries a fixed fee the income cannot cover as a balance instead of forgiving it', () => {
    const fixed = { ...rules, maintenanceFee: parseMaintenanceFee('150000') };
    const bill = billInstallation(
      '1405-08',
      base({ days: dates.map((date) => ({ date, wh: 100 })), loans: [] }),
      fixed,
    );
    expect(bill.grossRials).toBe(90_000n); // 3 kWh × 30,000
    expect(bill).toMatchObject({
      feeRials: 90_000n,
      feeCarriedRials: 60_000n,
      netRials: 0n,
      balanceOutRials: -60_000n,
    });
    const next = billInstallation('1405-09', base({ loans: [], balanceInRials: bill.balanceOutRials }), fixed);
    expect(next.incomeRials).toBe(54_000_000n - 60_000n);
    expect(next.feeCarriedRials).toBe(0n);
  });

  it('prices each day by the contract in force that day when the contract is replaced mid-month', () => {
    const replaced = base({
      days: dates.map((date) => ({ date, wh: 10_000 })),
      contracts: [
        {
          reference: 'C-old',
          kind: 'SUPPORT',
          startDate: '2025-01-01',
          periods: [{ from: '2025-01-01', until: null, rialPerKwh: 30_000 }],
        },
        {
          reference: 'C-new',
          kind: 'SUPPORT',
          startDate: dates[15]!,
          periods: [{ from: dates[15]!, until: null, rialPerKwh: 38_500 }],
        },
      ],
    });
    const bill = billInstallation('1405-08', replaced, rules);
    expect(bill.unpricedWh).toBe(0);
    expect(bill.segments.map((s) => [s.contract, s.fromDate, s.toDate, s.wh])).toEqual([
      ['C-old', dates[0], dates[14], 150_000],
      ['C-new', dates[15], dates[29], 150_000],
    ]);
    expect(bill.grossRials).toBe(150n * 30_000n + 150n * 38_500n);
  });

  it('always adds up, never pays a negative part, and gives the same result for the same input', () => {
    const arb = fc.record({
      wh: fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 30, maxLength: 30 }),
      weights: fc.array(
        fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 1, max: 30 })),
        { maxLength: 8 },
      ),
      adjustment: fc.bigInt({ min: -(10n ** 8n), max: 10n ** 8n }),
      installment: fc.bigInt({ min: 0n, max: 10n ** 8n }),
    });
    fc.assert(
      fc.property(arb, ({ wh, weights, adjustment, installment }) => {
        const input = base({
          days: dates.map((date, i) => ({ date, wh: wh[i]! })),
          shares: weights.map(([w, from, len], i) => ({
            shareId: i + 1,
            beneficiaryId: 100 + i,
            weightW: w,
            validFrom: dates[from]!,
            validUntil: dates[from + len] ?? null,
          })),
          capacityW: 40_000,
          adjustments: [{ forMonth: '1405-07', wh: 0, rials: adjustment, reason: 'test' }],
          loans: [
            {
              loanId: 1,
              reference: 'L',
              principalRials: installment * 10n,
              installmentRials: installment,
              installments: 10,
              firstDueMonth: '1405-08',
              repaidRials: 0n,
            },
          ],
        });
        const bill = billInstallation('1405-08', input, rules);
        const parts = [...bill.shares.map((s) => s.rials), bill.pool.rials];
        expect(parts.every((p) => p >= 0n)).toBe(true);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(bill.netRials);
        expect(bill.netRials + bill.feeRials + bill.loans[0]!.deductedRials).toBe(
          bill.incomeRials > 0n ? bill.incomeRials : 0n,
        );
        // Nothing owed is forgiven: an uncovered fee is in the balance carried out.
        expect(bill.balanceOutRials).toBe((bill.incomeRials < 0n ? bill.incomeRials : 0n) - bill.feeCarriedRials);
        expect(billInstallation('1405-08', structuredClone(input), rules)).toEqual(bill);
      }),
    );
  });
});

describe('beneficiaryTotal', () => {
  it("pays a balance below the minimum when the person's last share has ended", () => {
    expect(beneficiaryTotal(1, 0n, 60_000n, 100_000n, true)).toMatchObject({
      payableRials: 60_000n,
      carriedOutRials: 0n,
    });
    expect(beneficiaryTotal(1, 0n, 0n, 100_000n, true)).toMatchObject({ payableRials: 0n, carriedOutRials: 0n });
  });

  it('carries amounts below the minimum payout to the next month', () => {
    expect(beneficiaryTotal(1, 60_000n, 0n, 100_000n)).toMatchObject({ payableRials: 0n, carriedOutRials: 60_000n });
    expect(beneficiaryTotal(1, 60_000n, 60_000n, 100_000n)).toMatchObject({
      totalRials: 120_000n,
      payableRials: 120_000n,
      carriedOutRials: 0n,
    });
  });
});

// A draft to date deducts in step with its income; a schedule short of the
// principal forgives nothing.
describe('billInstallation: a month to date and loans that add up', () => {
  const { startMs, endMs } = monthBounds('1405-08');
  const DAY = 86_400_000;
  const aban = (daysSoFar: number): InstallationMonth =>
    base({
      days: dates.map((date, i) => ({ date, wh: i < daysSoFar ? 22_000 : 0 })),
      contracts: [{ ...base().contracts[0]!, periods: [{ from: '2025-01-01', until: null, rialPerKwh: 25_000 }] }],
      loans: [{ ...base().loans[0]!, installmentRials: 12_000_000n, repaidRials: 7n * 12_000_000n }],
    });
  const fixedFee = { ...rules, maintenanceFee: parseMaintenanceFee('150000') };

  it.each([1, 15, 30])(
    'on day %i the installment and a fixed fee are deducted pro rata, never a shortfall that will not happen',
    (day) => {
      const toDateAt = startMs + day * DAY - 60_000; // the end of day `day`, its energy in
      const bill = billInstallation('1405-08', aban(day), fixedFee, monthElapsed('1405-08', toDateAt));
      const share = (rials: bigint) => (rials * BigInt(toDateAt - startMs)) / BigInt(endMs - startMs);
      expect(bill.grossRials).toBe(BigInt(day) * 550_000n);
      expect(bill.loans[0]).toMatchObject({ owedRials: share(12_000_000n), shortfallRials: 0n });
      expect(bill.feeRials).toBe(share(150_000n));
      expect(bill.netRials).toBe(bill.grossRials - share(12_000_000n) - share(150_000n));
      expect(bill.netRials).toBeGreaterThan(0n);
    },
  );

  it('a whole month (or a draft after its end) deducts the whole installment', () => {
    expect(monthElapsed('1405-08', endMs)).toBeNull();
    const bill = billInstallation('1405-08', aban(30), fixedFee, null);
    expect(bill.loans[0]!.owedRials).toBe(12_000_000n);
    expect(bill.feeRials).toBe(150_000n);
  });

  it('installments that do not cover the principal: the last one takes the remainder', () => {
    const short = { ...base().loans[0]!, principalRials: 1_000_000n, installmentRials: 300_000n, installments: 3 };
    const owed = (month: string, repaidRials: bigint) =>
      loanDeduction({ ...short, firstDueMonth: '1405-01', repaidRials }, month, 10n ** 9n).owedRials;
    expect(owed('1405-01', 0n)).toBe(300_000n);
    expect(owed('1405-02', 300_000n)).toBe(300_000n);
    expect(owed('1405-03', 600_000n)).toBe(400_000n);
    expect(owed('1406-01', 1_000_000n)).toBe(0n);
  });
});
