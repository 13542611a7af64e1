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
 * The Wh per slot to bill under a decision: ACCEPT bills what the counter read (implausible energy
 * included), EXCLUDE nothing, CORRECT the operator's figure spread like the readings (evenly when
 * they show nothing), in whole Wh that add up to it.
 */
export function reviewedSlotWh(energy: CounterEnergy, review: CounterReview | undefined): number[] {
  if (!review) return energy.slotWh;
  if (review.decision === 'ACCEPT') return energy.readSlotWh;
  if (review.decision === 'EXCLUDE') return energy.slotWh.map(() => 0);
  const shape = energy.readSlotWh.some((wh) => wh > 0) ? energy.readSlotWh : energy.readSlotWh.map(() => 1);
  return allocateLargestRemainder(
    BigInt(review.correctedWh ?? 0),
    shape.map((wh, i) => ({ id: String(i), weight: BigInt(wh) })),
  ).map((a) => Number(a.amount));
}
