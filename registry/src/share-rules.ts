// Shares of one installation may never add up to more than its capacity on any day. Pure.
export interface SharePeriod {
  weightW: number;
  validFrom: Date;
  validUntil: Date | null;
}

export const overlaps = (a: SharePeriod, b: SharePeriod) =>
  a.validFrom < (b.validUntil ?? new Date(8.64e15)) && b.validFrom < (a.validUntil ?? new Date(8.64e15));

/** The largest total weight on any day of the candidate's period, the candidate included. */
export function peakWeightW(existing: SharePeriod[], candidate: SharePeriod): number {
  const relevant = existing.filter((s) => overlaps(s, candidate));
  // The total only changes where a share starts: check the candidate's start and each start inside it.
  const instants = [candidate.validFrom, ...relevant.map((s) => s.validFrom).filter((d) => d > candidate.validFrom)];
  let peak = 0;
  for (const t of instants) {
    const at = { weightW: 0, validFrom: t, validUntil: new Date(t.getTime() + 1) };
    const total = candidate.weightW + relevant.filter((s) => overlaps(s, at)).reduce((sum, s) => sum + s.weightW, 0);
    if (candidate.validUntil === null || t < candidate.validUntil) peak = Math.max(peak, total);
  }
  return peak;
}
