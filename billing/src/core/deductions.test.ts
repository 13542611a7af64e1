import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loanDeduction, maintenanceFeeDue, parseMaintenanceFee, type LoanTerms } from './deductions';

const loan = (repaidRials = 0n): LoanTerms => ({
  loanId: 1,
  reference: 'L-1',
  principalRials: 3_000_000n,
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

  it('never deducts more than the principal: the last installment is what remains', () => {
    const odd = {
      ...loan(),
      principalRials: 1_000_001n,
      installmentRials: 100_000n,
      installments: 11,
      firstDueMonth: '1405-01',
    };
    let repaid = 0n;
    for (let m = 1; m <= 12; m++) {
      const d = loanDeduction({ ...odd, repaidRials: repaid }, `1405-${String(m).padStart(2, '0')}`, 10n ** 9n);
      repaid += d.deductedRials;
    }
    expect(repaid).toBe(1_000_001n);
    expect(loanDeduction({ ...odd, repaidRials: 1_000_000n }, '1405-11', 10n ** 9n).deductedRials).toBe(1n);
  });

  it('computes the maintenance fee due as a percentage of income or a fixed amount', () => {
    expect(maintenanceFeeDue(parseMaintenanceFee('2.5%'), 1_000_001n)).toBe(25_000n);
    expect(maintenanceFeeDue(parseMaintenanceFee('150000'), 100_000n)).toBe(150_000n);
    expect(maintenanceFeeDue(parseMaintenanceFee('2.5%'), -5n)).toBe(0n);
    expect(maintenanceFeeDue(parseMaintenanceFee('0%'), 1_000_000n)).toBe(0n);
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
            { ...loan(repaid), installments: 24, principalRials: 24_000_000n },
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
