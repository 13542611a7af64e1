// An operator's decision on an inverter's month whose counter could not be trusted (implausible
// energy, a wrong reading): accept what was read, correct it to a figure, or exclude it. Pure.
import { allocateLargestRemainder } from './allocate-largest-remainder';
import type { CounterEnergy } from './counter-energy';

export type ReviewDecision = 'ACCEPT' | 'CORRECT' | 'EXCLUDE';
export interface CounterReview {
  decision: ReviewDecision;
  /** The month's energy an operator set (CORRECT only). */
  correctedWh: number | null;
  reason: string;
  decidedBy: string;
  decidedAt: string;
}

/**
 * The Wh per slot to bill under a decision, never more than `boundWh` (the inverter's capacity
 * bound over the period, billing/README.md "Review decisions"): ACCEPT bills what the counter read
 * (implausible energy included) up to the bound, EXCLUDE nothing, CORRECT the operator's figure
 * (refused above the bound when recorded); a figure is spread like the readings (evenly when they
 * show nothing), in whole Wh that add up to it.
 */
export function reviewedSlotWh(energy: CounterEnergy, review: CounterReview | undefined, boundWh: number): number[] {
  if (!review) return energy.slotWh;
  if (review.decision === 'EXCLUDE') return energy.slotWh.map(() => 0);
  const readWh = energy.readSlotWh.reduce((a, b) => a + b, 0);
  if (review.decision === 'ACCEPT' && readWh <= boundWh) return energy.readSlotWh;
  const wh = Math.min(review.decision === 'ACCEPT' ? readWh : (review.correctedWh ?? 0), boundWh);
  const shape = readWh > 0 ? energy.readSlotWh : energy.readSlotWh.map(() => 1);
  return allocateLargestRemainder(
    BigInt(wh),
    shape.map((x, i) => ({ id: String(i), weight: BigInt(x) })),
  ).map((a) => Number(a.amount));
}
