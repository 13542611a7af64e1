import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loanDeduction, maintenanceFee, parseMaintenanceFee, type LoanTerms } from './deductions';

const loan = (repaidRials = 0n): LoanTerms => ({
  loanId: 1,
  reference: 'L-1',
  installmentRials: 1_000_000n,
  installments: 3,
  firstDueMonth: '1405-07',
  repaidRials,
});

describe('deductions', () => {
  it('deducts installments from their first month until the loan is repaid', () => {
    expect(loanDeduction(loan(), '1405-06', 5_000_000n)).toMatchObject({
      installmentsDue: 0,
      owedRials: 0n,
      deductedRials: 0n,
    });
    expect(loanDeduction(loan(), '1405-07', 5_000_000n)).toMatchObject({
      installmentsDue: 1,
      deductedRials: 1_000_000n,
      shortfallRials: 0n,
    });
    expect(loanDeduction(loan(3_000_000n), '1406-01', 5_000_000n)).toMatchObject({
      installmentsDue: 3,
      owedRials: 0n,
      deductedRials: 0n,
    });
  });

  it('never takes more than the income; the shortfall is owed next month', () => {
    const lean = loanDeduction(loan(), '1405-07', 400_000n);
    expect(lean).toMatchObject({ owedRials: 1_000_000n, deductedRials: 400_000n, shortfallRials: 600_000n });
    const next = loanDeduction(loan(400_000n), '1405-08', 5_000_000n);
    expect(next).toMatchObject({ installmentsDue: 2, owedRials: 1_600_000n, deductedRials: 1_600_000n });
    expect(loanDeduction(loan(), '1405-07', -5n).deductedRials).toBe(0n);
  });

  it('charges the maintenance fee as a percentage or a fixed amount, never beyond what is left', () => {
    expect(maintenanceFee(parseMaintenanceFee('2.5%'), 1_000_001n, 1_000_001n)).toBe(25_000n);
    expect(maintenanceFee(parseMaintenanceFee('150000'), 1_000_000n, 100_000n)).toBe(100_000n);
    expect(maintenanceFee(parseMaintenanceFee('0%'), 1_000_000n, 1_000_000n)).toBe(0n);
    expect(() => parseMaintenanceFee('lots')).toThrow(/not a maintenance fee/);
  });

  it('deducts nothing negative and nothing beyond the income, whatever the inputs', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 9n), max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 10n }),
        fc.integer({ min: 0, max: 40 }),
        (available, repaid, months) => {
          const d = loanDeduction(
            { ...loan(repaid), installments: 24 },
            `14${String(5 + Math.floor(months / 12)).padStart(2, '0')}-${String((months % 12) + 1).padStart(2, '0')}`,
            available,
          );
          expect(d.deductedRials >= 0n && d.deductedRials <= (available > 0n ? available : 0n)).toBe(true);
          expect(d.deductedRials + d.shortfallRials).toBe(d.owedRials);
        },
      ),
    );
  });
});
