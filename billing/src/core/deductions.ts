// Deductions from an installation's income, each its own line, never more than what is left. Pure.
import { parseMonth, type MonthId } from './solar-hijri';
import { divideRoundHalfUp, minBigInt } from './money';

/** A plant loan and what closed months have already deducted for it. */
export interface LoanTerms {
  loanId: number;
  reference: string;
  /** What is owed in all: installments stop at it (the last one is smaller when it is not a multiple). */
  principalRials: bigint;
  installmentRials: bigint;
  installments: number;
  firstDueMonth: MonthId;
  repaidRials: bigint;
}
export interface LoanDeduction {
  loanId: number;
  reference: string;
  /** Installments due up to and including this month (0 before the first due month). */
  installmentsDue: number;
  /** Owed this month: installments due so far (never beyond the principal) minus what was repaid. */
  owedRials: bigint;
  deductedRials: bigint;
  /** Carried to next month when the income did not cover what was owed. */
  shortfallRials: bigint;
}

const monthIndex = (id: MonthId) => {
  const { year, month } = parseMonth(id);
  return year * 12 + month;
};

export function loanDeduction(loan: LoanTerms, month: MonthId, availableRials: bigint): LoanDeduction {
  const installmentsDue = Math.max(
    0,
    Math.min(loan.installments, monthIndex(month) - monthIndex(loan.firstDueMonth) + 1),
  );
  const dueSoFar = minBigInt(BigInt(installmentsDue) * loan.installmentRials, loan.principalRials);
  const owed = dueSoFar - loan.repaidRials;
  const owedRials = owed > 0n ? owed : 0n;
  const deductedRials = minBigInt(owedRials, availableRials > 0n ? availableRials : 0n);
  return {
    loanId: loan.loanId,
    reference: loan.reference,
    installmentsDue,
    owedRials,
    deductedRials,
    shortfallRials: owedRials - deductedRials,
  };
}

/** The maintenance and insurance fee: a share of the month's income or a fixed amount per installation. */
export type MaintenanceFee = { kind: 'percent'; basisPoints: number } | { kind: 'fixed'; rials: bigint };

/** The fee due for a month: a percentage of its (positive) income, or the fixed amount. */
export function maintenanceFeeDue(fee: MaintenanceFee, incomeRials: bigint): bigint {
  const income = incomeRials > 0n ? incomeRials : 0n;
  return fee.kind === 'fixed' ? fee.rials : divideRoundHalfUp(income * BigInt(fee.basisPoints), 10_000n);
}

/** `2.5%` (of income) or `150000` (Rials per installation per month). */
export function parseMaintenanceFee(text: string): MaintenanceFee {
  const percent = /^\s*(\d{1,2}(?:\.\d{1,2})?)\s*%\s*$/.exec(text);
  if (percent) return { kind: 'percent', basisPoints: Math.round(Number(percent[1]) * 100) };
  if (/^\s*\d{1,12}\s*$/.test(text)) return { kind: 'fixed', rials: BigInt(text.trim()) };
  throw new RangeError(
    `'${text}' is not a maintenance fee: write a percentage of income (e.g. 2.5%) or whole Rials per month (e.g. 150000)`,
  );
}
