// Reconciling the distribution company's settlement of a period with what billing billed for it:
// the classification, tolerances and difference policies of billing/README.md, "Two clocks". Pure.

export type ReconciliationStatus =
  | 'WITHIN_TOLERANCE'
  | 'METER_BELOW_TELEMETRY'
  | 'METER_ABOVE_TELEMETRY'
  | 'AMOUNT_BELOW_BILLED'
  | 'AMOUNT_ABOVE_BILLED'
  | 'TELEMETRY_MISSING';

export type DifferencePolicy = 'absorb' | 'adjust';

export interface SettlementPolicy {
  /** |meter − telemetry| may be this share of telemetry, in basis points (500 = 5 %). */
  energyToleranceBasisPoints: number;
  /** |settled − billed| may be this share of billed, in basis points. */
  amountToleranceBasisPoints: number;
  /** A settlement (or its payment) is late this many days after its period ends. */
  lateAfterDays: number;
  differencePolicy: DifferencePolicy;
}

/** The defaults of the SETTLEMENT_* settings (billing/README.md says why). */
export const DEFAULT_SETTLEMENT_POLICY: SettlementPolicy = {
  energyToleranceBasisPoints: 500,
  amountToleranceBasisPoints: 500,
  lateAfterDays: 45,
  differencePolicy: 'absorb',
};

export interface SettlementComparison {
  telemetryWh: bigint;
  /** False when the counters could not bound the whole period (no reading before or after it). */
  telemetryComplete: boolean;
  meteredWh: bigint;
  billedRials: bigint;
  settledRials: bigint;
}

export interface Reconciliation {
  status: ReconciliationStatus;
  /** (meter − telemetry) / telemetry in per cent, two decimals; null without telemetry. For display only. */
  energyDifferencePercent: number | null;
  amountDifferenceRials: bigint;
  /** The money difference the beneficiaries should carry: non-zero only under `adjust`, beyond tolerance. */
  targetAdjustmentRials: bigint;
}

const abs = (n: bigint) => (n < 0n ? -n : n);
/** |difference| ≤ basisPoints / 10,000 × reference, exactly. */
const within = (difference: bigint, reference: bigint, basisPoints: number) =>
  abs(difference) * 10_000n <= BigInt(basisPoints) * abs(reference);

export function reconcileSettlement(input: SettlementComparison, policy: SettlementPolicy): Reconciliation {
  const energyDifference = input.meteredWh - input.telemetryWh;
  const amountDifferenceRials = input.settledRials - input.billedRials;
  const energyDifferencePercent =
    input.telemetryWh > 0n ? Number((energyDifference * 10_000n) / input.telemetryWh) / 100 : null;
  let status: ReconciliationStatus;
  if (!input.telemetryComplete || (input.telemetryWh === 0n && input.meteredWh > 0n)) status = 'TELEMETRY_MISSING';
  else if (!within(energyDifference, input.telemetryWh, policy.energyToleranceBasisPoints))
    status = energyDifference < 0n ? 'METER_BELOW_TELEMETRY' : 'METER_ABOVE_TELEMETRY';
  else if (!within(amountDifferenceRials, input.billedRials, policy.amountToleranceBasisPoints))
    status = amountDifferenceRials < 0n ? 'AMOUNT_BELOW_BILLED' : 'AMOUNT_ABOVE_BILLED';
  else status = 'WITHIN_TOLERANCE';
  // Missing telemetry is not a difference to pass on: billing pays that energy itself when the
  // readings arrive (late-data adjustments), so nothing is carried until an operator looks.
  const carried =
    policy.differencePolicy === 'adjust' && status !== 'WITHIN_TOLERANCE' && status !== 'TELEMETRY_MISSING';
  return {
    status,
    energyDifferencePercent,
    amountDifferenceRials,
    targetAdjustmentRials: carried ? amountDifferenceRials : 0n,
  };
}

export type Timeliness = 'paid' | 'due' | 'late';

/** Whether a settled period's money has arrived, is still due, or is late (dates are YYYY-MM-DD). */
export function settlementTimeliness(
  periodUntil: string,
  paidOn: string | null,
  today: string,
  lateAfterDays: number,
): Timeliness {
  if (paidOn !== null) return 'paid';
  const daysSinceEnd = (Date.parse(today) - Date.parse(periodUntil)) / 86_400_000;
  return daysSinceEnd > lateAfterDays ? 'late' : 'due';
}

/** Parses a tolerance such as `5` or `2.5` (per cent) into basis points. */
export function parsePercentAsBasisPoints(text: string): number {
  const m = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) throw new RangeError(`must be a percentage from 0 to 99.99, e.g. 5 or 2.5, got '${text}'`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** Parses `SETTLEMENT_DIFFERENCE_POLICY`. */
export function parseDifferencePolicy(text: string): DifferencePolicy {
  if (text === 'absorb' || text === 'adjust') return text;
  throw new RangeError(`must be 'absorb' or 'adjust', got '${text}'`);
}
