// A whole month for the whole program: every installation's bill, every beneficiary's statement,
// the totals and a digest of the results (the same inputs always give the same digest). Pure.
import { createHash } from 'node:crypto';
import { jsonText } from '../../../lib/json';
import {
  beneficiaryTotal,
  billInstallation,
  type BeneficiaryTotal,
  type BillingRules,
  type InstallationBill,
  type InstallationMonth,
} from './bill-installation';
import { type EnergyFlag, type EpochUse, IMPLAUSIBLE_FLAGS, MISSING_DATA_FLAGS } from './counter-energy';
import type { CounterReview } from './counter-review';
import { monthElapsed } from './deductions';
import { sumBigInt } from '../../../lib/program/money';
import type { MonthId } from '../../../lib/program/solar-hijri';

/**
 * The counters behind an installation's energy: per inverter, the Wh billed, what was held as
 * implausible, the epochs used, what was flagged and an operator's decision if any.
 */
export type EnergyTrace = Record<
  string,
  {
    wh: number;
    heldWh: number;
    epochs: EpochUse[];
    flags: EnergyFlag[];
    review?: CounterReview;
    /** The most a decision may bill for it (set when an operator has something to decide). */
    boundWh?: number;
  }
>;

export interface InstallationInput extends InstallationMonth {
  code: string;
  trace: EnergyTrace;
  /** Late changes to closed months waiting for an operator's review (late-data.ts): not money, and they hold the month. */
  heldLateData?: { forMonth: MonthId; wh: number; rials: bigint; reason: string }[];
}
export interface MonthRules extends BillingRules {
  minimumPayoutRials: bigint;
}

export interface BilledInstallation extends InstallationBill {
  code: string;
  trace: EnergyTrace;
  heldLateData: NonNullable<InstallationInput['heldLateData']>;
  incomplete: boolean;
  implausible: boolean;
}
export interface StatementLine {
  shareId: number;
  beneficiaryId: number;
  installationId: number;
  weightW: number;
  activeDays: number;
  rials: bigint;
}
export interface MonthTotals {
  installations: number;
  beneficiaries: number;
  energyWh: number;
  grossRials: bigint;
  netRials: bigint;
  poolRials: bigint;
  payableRials: bigint;
  incomplete: number;
  implausible: number;
}
export interface BilledMonth {
  month: MonthId;
  installations: BilledInstallation[];
  lines: StatementLine[];
  statements: BeneficiaryTotal[];
  totals: MonthTotals;
  digest: string;
  /**
   * A month still running is billed "to date": energy up to each inverter's latest reading before
   * this instant. Null once the month has ended. Not part of the digest (it is when, not what).
   */
  toDateAt: number | null;
}

/**
 * Energy is not (yet) known for some inverter (or the installation has none). In a month billed to
 * date, no reading after the month's end is what "to date" means, not missing data.
 */
export const isIncomplete = (trace: EnergyTrace, toDate = false) =>
  Object.values(trace).length === 0 ||
  Object.values(trace).some((t) =>
    t.flags.some((f) => MISSING_DATA_FLAGS.includes(f.kind) && !(toDate && f.kind === 'no_closing_reading')),
  );
/** Some inverter read more than it could produce and no operator has decided what to bill: the month cannot close. */
export const isImplausible = (trace: EnergyTrace) =>
  Object.values(trace).some((t) => !t.review && t.flags.some((f) => IMPLAUSIBLE_FLAGS.includes(f.kind)));

export function billMonth(
  month: MonthId,
  inputs: readonly InstallationInput[],
  carriedIn: ReadonlyMap<number, bigint>,
  rules: MonthRules,
  /** Beneficiaries with a share after this month; the others get their last payment now, however small. */
  continuing: ReadonlySet<number>,
  toDateAt: number | null = null,
): BilledMonth {
  const elapsed = monthElapsed(month, toDateAt);
  const installations = [...inputs]
    .sort((a, b) => a.installationId - b.installationId)
    .map(
      (input): BilledInstallation => ({
        ...billInstallation(month, input, rules, elapsed),
        code: input.code,
        trace: input.trace,
        heldLateData: input.heldLateData ?? [],
        incomplete: isIncomplete(input.trace, toDateAt !== null),
        implausible: isImplausible(input.trace) || (input.heldLateData?.length ?? 0) > 0,
      }),
    );
  const lines = installations.flatMap((bill) =>
    bill.shares.map((s) => ({
      shareId: s.shareId,
      beneficiaryId: s.beneficiaryId,
      installationId: bill.installationId,
      weightW: s.weightW,
      activeDays: s.activeDays,
      rials: s.rials,
    })),
  );
  const earned = new Map<number, bigint>();
  for (const line of lines) earned.set(line.beneficiaryId, (earned.get(line.beneficiaryId) ?? 0n) + line.rials);
  for (const [beneficiaryId, rials] of carriedIn)
    if (rials !== 0n && !earned.has(beneficiaryId)) earned.set(beneficiaryId, 0n);
  const statements = [...earned.keys()]
    .sort((a, b) => a - b)
    .map((id) =>
      beneficiaryTotal(id, earned.get(id)!, carriedIn.get(id) ?? 0n, rules.minimumPayoutRials, !continuing.has(id)),
    );
  const totals: MonthTotals = {
    installations: installations.length,
    beneficiaries: statements.length,
    energyWh: installations.reduce((s, b) => s + b.energyWh, 0),
    grossRials: sumBigInt(installations.map((b) => b.grossRials)),
    netRials: sumBigInt(installations.map((b) => b.netRials)),
    poolRials: sumBigInt(installations.map((b) => b.pool.rials)),
    payableRials: sumBigInt(statements.map((s) => s.payableRials)),
    incomplete: installations.filter((b) => b.incomplete).length,
    implausible: installations.filter((b) => b.implausible).length,
  };
  const digest = createHash('sha256').update(jsonText({ month, installations, lines, statements })).digest('hex');
  return { month, installations, lines, statements, totals, digest, toDateAt };
}
