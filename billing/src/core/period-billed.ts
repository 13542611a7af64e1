// What billing billed for a settlement period: the months it covers, each as billing billed it, and
// a month that settlement periods cut split so that its parts add up to it to the Rial (billing/
// README.md, "Reconciliation", the rule for a month split between periods). Pure.
import { allocateLargestRemainder } from './allocate-largest-remainder';
import type { ContractTerms, StepDown } from '../../../lib/program/tariff';
import { priceEnergy } from './price-energy';

/** A billing month of one installation: its days with the energy billing counts on each, and what it billed. */
export interface BilledMonthOfDays {
  days: readonly { date: string; wh: number }[];
  /** The month's billed energy and Rials: the ledger's (its gross and the late-data adjustments recorded for it since). */
  billed: { wh: number; rials: bigint };
}

export interface BilledPart {
  fromDate: string;
  toDate: string;
  wh: number;
  rials: bigint;
}

/**
 * Splits a month's billed energy and Rials at `cuts` (dates on which a settlement period starts or
 * ends inside the month): each part gets its share in proportion to its days' energy (Wh) and to the
 * exact price of that energy (Rials), by largest remainder, so the parts add up to the month exactly
 * whichever period asks (every period of the installation cuts the month at the same dates). A
 * month whose days read no energy now is split by days.
 */
export function splitBilledMonth(
  month: BilledMonthOfDays,
  cuts: readonly string[],
  contracts: readonly ContractTerms[],
  stepDowns: readonly StepDown[],
): BilledPart[] {
  const parts: { days: { date: string; wh: number }[] }[] = [];
  for (const day of month.days) {
    const last = parts[parts.length - 1];
    if (!last || cuts.includes(day.date)) parts.push({ days: [day] });
    else last.days.push(day);
  }
  const weighed = parts.map((p) => ({
    days: p.days,
    wh: BigInt(p.days.reduce((a, d) => a + d.wh, 0)),
    value: priceEnergy(p.days, contracts, stepDowns).exactGross,
  }));
  const byDays = (total: bigint) =>
    split(
      total,
      weighed.map((p) => BigInt(p.days.length)),
    );
  const wh = weighed.some((p) => p.wh > 0n)
    ? split(
        BigInt(month.billed.wh),
        weighed.map((p) => p.wh),
      )
    : byDays(BigInt(month.billed.wh));
  const rials = weighed.some((p) => p.value > 0n)
    ? split(
        month.billed.rials,
        weighed.map((p) => p.value),
      )
    : byDays(month.billed.rials);
  return weighed.map((p, i) => ({
    fromDate: p.days[0]!.date,
    toDate: p.days[p.days.length - 1]!.date,
    wh: Number(wh[i]!),
    rials: rials[i]!,
  }));
}

/** Largest remainder with the parts' order as the last tie-break; a negative total (adjustments larger than the gross) is split as its opposite. */
function split(total: bigint, weights: readonly bigint[]): bigint[] {
  const sign = total < 0n ? -1n : 1n;
  return allocateLargestRemainder(
    total * sign,
    weights.map((weight, i) => ({ id: String(i), weight })),
  ).map((a) => a.amount * sign);
}

/** The parts of a month inside a settlement period [from, until) (dates; `until` excluded). */
export const partsWithin = (parts: readonly BilledPart[], from: string, until: string) =>
  parts.filter((p) => p.fromDate >= from && p.toDate < until);
