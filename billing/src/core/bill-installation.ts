// One installation's month, from energy to each share's Rials: the functional core of billing.
// gross (energy × tariff) + adjustments + balance carried in = income; income − loan installments
// − maintenance fee = net; net split over shares and the pool. Pure and deterministic.
import { loanDeduction, maintenanceFee, type LoanDeduction, type LoanTerms, type MaintenanceFee } from './deductions';
import { sumBigInt } from './money';
import { allocateToShares, type PoolAllocation, type ShareAllocation, type ShareTerm } from './shares';
import type { MonthId } from './solar-hijri';
import { priceEnergy, type ContractTerms, type PricedSegment, type StepDown } from './tariff';

export interface Adjustment {
  forMonth: MonthId;
  wh: number;
  rials: bigint;
  reason: string;
  /** Set when the adjustment carries a settlement's difference (settlements), not late counter data. */
  settlementId?: number;
}

export interface InstallationMonth {
  installationId: number;
  capacityW: number;
  /** The month's days (Tehran civil dates) with the energy counted on each. */
  days: { date: string; wh: number }[];
  contract: ContractTerms | null;
  loans: LoanTerms[];
  shares: ShareTerm[];
  adjustments: Adjustment[];
  /** A negative balance left by earlier adjustments (≤ 0). */
  balanceInRials: bigint;
}

export interface BillingRules {
  stepDowns: StepDown[];
  maintenanceFee: MaintenanceFee;
}

export interface InstallationBill {
  installationId: number;
  energyWh: number;
  segments: PricedSegment[];
  unpricedWh: number;
  grossRials: bigint;
  adjustments: Adjustment[];
  balanceInRials: bigint;
  incomeRials: bigint;
  loans: LoanDeduction[];
  feeRials: bigint;
  netRials: bigint;
  /** Negative income is not paid out: it waits for next month's income. */
  balanceOutRials: bigint;
  shares: ShareAllocation[];
  pool: PoolAllocation;
}

export function billInstallation(month: MonthId, input: InstallationMonth, rules: BillingRules): InstallationBill {
  const priced = priceEnergy(input.days, input.contract, rules.stepDowns);
  const incomeRials = priced.grossRials + sumBigInt(input.adjustments.map((a) => a.rials)) + input.balanceInRials;
  let available = incomeRials > 0n ? incomeRials : 0n;
  const loans = [...input.loans]
    .sort((a, b) => a.loanId - b.loanId)
    .map((loan) => {
      const deduction = loanDeduction(loan, month, available);
      available -= deduction.deductedRials;
      return deduction;
    });
  const feeRials = maintenanceFee(rules.maintenanceFee, incomeRials, available);
  const netRials = available - feeRials;
  const allocation = allocateToShares(
    netRials,
    input.shares,
    input.days.map((d) => d.date),
    input.capacityW,
  );
  return {
    installationId: input.installationId,
    energyWh: input.days.reduce((s, d) => s + d.wh, 0),
    segments: priced.segments,
    unpricedWh: priced.unpricedWh,
    grossRials: priced.grossRials,
    adjustments: input.adjustments,
    balanceInRials: input.balanceInRials,
    incomeRials,
    loans,
    feeRials,
    netRials,
    balanceOutRials: incomeRials < 0n ? incomeRials : 0n,
    shares: allocation.shares,
    pool: allocation.pool,
  };
}

export interface BeneficiaryTotal {
  beneficiaryId: number;
  earnedRials: bigint;
  carriedInRials: bigint;
  totalRials: bigint;
  payableRials: bigint;
  carriedOutRials: bigint;
}

/** A beneficiary's month: what the shares earned plus what was carried in; below the minimum payout it is carried on. */
export function beneficiaryTotal(
  beneficiaryId: number,
  earnedRials: bigint,
  carriedInRials: bigint,
  minimumPayoutRials: bigint,
): BeneficiaryTotal {
  const totalRials = earnedRials + carriedInRials;
  const payableRials = totalRials >= minimumPayoutRials && totalRials > 0n ? totalRials : 0n;
  return {
    beneficiaryId,
    earnedRials,
    carriedInRials,
    totalRials,
    payableRials,
    carriedOutRials: totalRials - payableRials,
  };
}
