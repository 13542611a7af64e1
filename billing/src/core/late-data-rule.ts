// Late data for a closed month is evidence, not money: when a change is paid automatically and when
// it waits for an operator's review is billing/README.md, "Late data is evidence, not money". Pure.

/** A reading the closed month was billed from (its epochs' opening and closing readings). */
export interface BilledReading {
  tMs: number;
  wh: number;
}
/** What the closed month's bill recorded of one inverter's counters. */
export interface BilledCounter {
  readings: BilledReading[];
  /** Missing-data flags with their instants (`no_readings`, `no_opening_reading`, …). */
  flags: { kind: string; firstReadingAt?: number; lastReadingAt?: number; at?: number }[];
}

export const LATE_DATA_RULES = {
  /** An automatic adjustment's most, as a share of what the rating could produce over the gap (README: why 35 %). */
  gapSharePercent: 35,
};

/** How long the month was billed without knowing the counter (ms): the gap late readings may fill. */
export function billedGapMs(counter: BilledCounter, startMs: number, endMs: number): number {
  let gap = 0;
  for (const f of counter.flags) {
    if (f.kind === 'no_readings') return endMs - startMs;
    if (f.kind === 'no_opening_reading' && f.firstReadingAt !== undefined)
      gap += Math.min(f.firstReadingAt, endMs) - startMs;
    if (f.kind === 'no_closing_reading' && f.lastReadingAt !== undefined)
      gap += endMs - Math.max(f.lastReadingAt, startMs);
    if (f.kind === 'unconfirmed_reading' && f.at !== undefined) gap += endMs - Math.max(f.at, startMs);
  }
  return Math.min(Math.max(0, gap), endMs - startMs);
}

export interface LateChange {
  /** Wh the month would bill now minus what it billed (and adjusted). */
  deltaWh: number;
  /** Per inverter of the installation: its rating and what the closed month's bill recorded. */
  inverters: { serial: string; ratedAcW: number; billed: BilledCounter | undefined }[];
  /** Readings the month was billed from that now read otherwise or are gone, as text for the reason. */
  changedReadings: string[];
  /** The re-read month has energy held as implausible (a jump, over capacity). */
  implausibleNow: boolean;
  startMs: number;
  endMs: number;
}

/** Why the change must wait for an operator's review, or null when it is paid automatically. */
export function lateChangeHold(change: LateChange, rules = LATE_DATA_RULES): string | null {
  if (change.changedReadings.length > 0)
    return `readings the month was billed from changed: ${change.changedReadings.slice(0, 3).join('; ')}${change.changedReadings.length > 3 ? '; …' : ''}`;
  if (change.implausibleNow) return 'the counters now read more than the inverters could produce';
  if (change.inverters.some((i) => i.billed === undefined))
    return 'an inverter the month was not billed from now reads energy for it';
  const boundWh = change.inverters.reduce(
    (sum, i) =>
      sum +
      Math.floor(
        (i.ratedAcW * billedGapMs(i.billed!, change.startMs, change.endMs) * rules.gapSharePercent) / (100 * 3_600_000),
      ),
    0,
  );
  if (Math.abs(change.deltaWh) > boundWh)
    return boundWh === 0
      ? `${change.deltaWh} Wh changed, but the month was billed with no gap in its readings`
      : `${change.deltaWh} Wh is more than ${rules.gapSharePercent} % of what the ratings could produce over the ` +
          `gap the month was billed across (${boundWh} Wh)`;
  return null;
}
