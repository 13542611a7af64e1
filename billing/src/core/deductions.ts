// Deductions from an installation's income, each its own line, never more than what is left. Pure.
import { monthBounds, parseMonth, type MonthId } from '../../../lib/program/solar-hijri';
import { divideRoundHalfUp, minBigInt } from '../../../lib/program/money';

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

/**
 * The part of a month a draft "to date" covers (billing/README.md, "To date"): the month's own
 * deductions (this month's installment, a fixed fee) are taken in this proportion, in step with the
 * income so far. Null for a whole month.
 */
export interface MonthElapsed {
  elapsedMs: number;
  monthMs: number;
}

/** The part of `month` a draft made at `toDateAt` covers; null once the month has ended (or for a whole month). */
export function monthElapsed(month: MonthId, toDateAt: number | null): MonthElapsed | null {
  if (toDateAt === null) return null;
  const { startMs, endMs } = monthBounds(month);
  return toDateAt >= endMs ? null : { elapsedMs: Math.max(0, toDateAt - startMs), monthMs: endMs - startMs };
}

/** `rials` × the elapsed part of the month, rounded down (a draft never deducts ahead of the month). */
export function prorated(rials: bigint, elapsed: MonthElapsed | null): bigint {
  if (!elapsed || elapsed.elapsedMs >= elapsed.monthMs) return rials;
  return (rials * BigInt(Math.max(0, Math.floor(elapsed.elapsedMs)))) / BigInt(elapsed.monthMs);
}

const monthIndex = (id: MonthId) => {
  const { year, month } = parseMonth(id);
  return year * 12 + month;
};

/**
 * What the first `n` installments owe: n installments, never beyond the principal, and the last one
 * takes whatever remains (a schedule that would not cover the principal forgives nothing).
 */
function dueAfter(loan: LoanTerms, n: number): bigint {
  if (n <= 0) return 0n;
  if (n >= loan.installments) return loan.principalRials;
  return minBigInt(BigInt(n) * loan.installmentRials, loan.principalRials);
}

export function loanDeduction(
  loan: LoanTerms,
  month: MonthId,
  availableRials: bigint,
  elapsed: MonthElapsed | null = null,
): LoanDeduction {
  const since = monthIndex(month) - monthIndex(loan.firstDueMonth);
  const installmentsDue = Math.max(0, Math.min(loan.installments, since + 1));
  const dueBefore = dueAfter(loan, Math.max(0, Math.min(loan.installments, since)));
  const dueSoFar = dueBefore + prorated(dueAfter(loan, installmentsDue) - dueBefore, elapsed);
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

/** The fee due for a month: a percentage of its (positive) income, or the fixed amount (pro rata in a draft to date). */
export function maintenanceFeeDue(
  fee: MaintenanceFee,
  incomeRials: bigint,
  elapsed: MonthElapsed | null = null,
): bigint {
  const income = incomeRials > 0n ? incomeRials : 0n;
  return fee.kind === 'fixed'
    ? prorated(fee.rials, elapsed)
    : divideRoundHalfUp(income * BigInt(fee.basisPoints), 10_000n);
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
