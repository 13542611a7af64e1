// One installation's month, from energy to each share's Rials: the functional core of billing
// (billing/README.md, "Income → net" and "Allocation"). Pure, deterministic.
import {
  type LoanDeduction,
  type LoanTerms,
  loanDeduction,
  type MaintenanceFee,
  type MonthElapsed,
  maintenanceFeeDue,
} from './deductions';
import { minBigInt } from '../../../lib/program/money';
import { sumBigInt } from '../../../lib/program/money';
import { allocateToShares, type PoolAllocation, type ShareAllocation, type ShareTerm } from './shares';
import type { MonthId } from '../../../lib/program/solar-hijri';
import { priceEnergy, type PricedSegment } from './price-energy';
import type { ContractTerms, StepDown } from '../../../lib/program/tariff';

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
  /** The installation's contracts in force during the month, in start order: each day is priced by its own. */
  contracts: ContractTerms[];
  loans: LoanTerms[];
  shares: ShareTerm[];
  adjustments: Adjustment[];
  /** A negative balance left by earlier months (adjustments, fees the income could not cover), ≤ 0. */
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
  /** The part of the fee due that the income could not cover: carried in the balance. */
  feeCarriedRials: bigint;
  netRials: bigint;
  /** Negative income and uncovered fees are not paid out or forgiven: they wait for the next income. */
  balanceOutRials: bigint;
  shares: ShareAllocation[];
  pool: PoolAllocation;
}

/** `elapsed`: the part of the month a draft to date covers (its own deductions are pro rata), null for a whole month. */
export function billInstallation(
  month: MonthId,
  input: InstallationMonth,
  rules: BillingRules,
  elapsed: MonthElapsed | null = null,
): InstallationBill {
  const priced = priceEnergy(input.days, input.contracts, rules.stepDowns);
  const incomeRials = priced.grossRials + sumBigInt(input.adjustments.map((a) => a.rials)) + input.balanceInRials;
  let available = incomeRials > 0n ? incomeRials : 0n;
  const loans = [...input.loans]
    .sort((a, b) => a.loanId - b.loanId)
    .map((loan) => {
      const deduction = loanDeduction(loan, month, available, elapsed);
      available -= deduction.deductedRials;
      return deduction;
    });
  const feeDue = maintenanceFeeDue(rules.maintenanceFee, incomeRials, elapsed);
  const feeRials = minBigInt(feeDue, available);
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
    feeCarriedRials: feeDue - feeRials,
    netRials,
    balanceOutRials: (incomeRials < 0n ? incomeRials : 0n) - (feeDue - feeRials),
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

/**
 * A beneficiary's month: what the shares earned plus what was carried in. Below the minimum payout
 * it is carried on, unless the person's last share has ended (`final`): then whatever is owed is paid.
 */
export function beneficiaryTotal(
  beneficiaryId: number,
  earnedRials: bigint,
  carriedInRials: bigint,
  minimumPayoutRials: bigint,
  final = false,
): BeneficiaryTotal {
  const totalRials = earnedRials + carriedInRials;
  const payableRials = (totalRials >= minimumPayoutRials || final) && totalRials > 0n ? totalRials : 0n;
  return {
    beneficiaryId,
    earnedRials,
    carriedInRials,
    totalRials,
    payableRials,
    carriedOutRials: totalRials - payableRials,
  };
}
