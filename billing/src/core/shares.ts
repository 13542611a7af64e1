// Who gets an installation's net income: shares by watt-days, the rest to the program pool
// (billing/README.md, "Allocation"). Pure.
import { allocateLargestRemainder } from './allocate-largest-remainder';

/** A share of an installation over Tehran civil dates [validFrom, validUntil). */
export interface ShareTerm {
  shareId: number;
  beneficiaryId: number;
  weightW: number;
  validFrom: string;
  validUntil: string | null;
}
export interface ShareAllocation {
  shareId: number;
  beneficiaryId: number;
  weightW: number;
  activeDays: number;
  rials: bigint;
}
export interface PoolAllocation {
  vacantWattDays: number;
  rials: bigint;
}

export const activeOn = (share: ShareTerm, date: string) =>
  share.validFrom <= date && (share.validUntil === null || date < share.validUntil);

/** Splits net income by watt-days; the parts (shares and pool) sum to the net, to the Rial. */
export function allocateToShares(
  netRials: bigint,
  shares: readonly ShareTerm[],
  dates: readonly string[],
  capacityW: number,
): { shares: ShareAllocation[]; pool: PoolAllocation } {
  const active = shares
    .map((share) => ({ share, activeDays: dates.filter((d) => activeOn(share, d)).length }))
    .filter((a) => a.activeDays > 0);
  let vacantWattDays = 0;
  for (const date of dates) {
    const heldW = active.reduce((sum, a) => sum + (activeOn(a.share, date) ? a.share.weightW : 0), 0);
    vacantWattDays += Math.max(0, capacityW - heldW);
  }
  const parts = active.map((a) => ({
    id: String(a.share.shareId),
    weight: BigInt(a.share.weightW) * BigInt(a.activeDays),
  }));
  const poolId = 'pool';
  parts.push({ id: poolId, weight: BigInt(vacantWattDays) });
  // No capacity and no shares: nothing to weigh, so the pool keeps it.
  const amounts = parts.some((p) => p.weight > 0n)
    ? new Map(allocateLargestRemainder(netRials, parts).map((a) => [a.id, a.amount]))
    : new Map([[poolId, netRials]]);
  return {
    shares: active.map((a) => ({
      shareId: a.share.shareId,
      beneficiaryId: a.share.beneficiaryId,
      weightW: a.share.weightW,
      activeDays: a.activeDays,
      rials: amounts.get(String(a.share.shareId)) ?? 0n,
    })),
    pool: { vacantWattDays, rials: amounts.get(poolId) ?? 0n },
  };
}
