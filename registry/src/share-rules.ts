// Shares of one installation may never add up to more than its capacity on any day, and one
// person's shares in one installation never overlap. Pure: the share service applies these rules to
// one share at a time, the bulk registration to a whole program before it writes.
export interface SharePeriod {
  weightW: number;
  validFrom: Date;
  validUntil: Date | null;
}
/** A share with who holds it (any key that names one person). */
export interface HeldShare extends SharePeriod {
  beneficiaryId: number | string;
}
/** A rule a share would break: the field to change and why. */
export interface ShareBreach {
  field: 'validUntil' | 'validFrom' | 'weightW';
  message: string;
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

export const overCapacity = (peakW: number, capacityW: number) =>
  `shares would reach ${peakW} W on some day, above the installation's ${capacityW} W`;

/** Why adding `candidate` to an installation of `capacityW` holding `existing` breaks a rule, or null. */
export function shareBreach(capacityW: number, existing: HeldShare[], candidate: HeldShare): ShareBreach | null {
  if (candidate.validUntil && candidate.validUntil <= candidate.validFrom)
    return { field: 'validUntil', message: 'must be after validFrom' };
  if (existing.some((s) => s.beneficiaryId === candidate.beneficiaryId && overlaps(s, candidate)))
    return {
      field: 'validFrom',
      message: 'this beneficiary already has a share in this installation that overlaps this period',
    };
  const peak = peakWeightW(existing, candidate);
  return peak > capacityW ? { field: 'weightW', message: overCapacity(peak, capacityW) } : null;
}
