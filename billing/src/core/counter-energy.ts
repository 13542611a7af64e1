// Energy from lifetime counters (invariant 2). Pure.
//
// The rules, in order:
//  1. Readings are sorted by time; readings with the same timestamp are one reading (the larger
//     value wins, so arrival order never matters). Counter values are rounded to whole Wh.
//  2. Between two consecutive readings p → q the inverter produced q − p, or, when the counter went
//     backwards (reset or replaced datalogger), q: a new epoch starts and counts from zero. Energy
//     is never negative.
//  3. The energy of p → q belongs to the instants (p.t, q.t]: a reading taken exactly at a boundary
//     closes the slot before it. When p → q spans a slot boundary b (a gap across midnight or the
//     end of a month), the part before b is floor(E × (b − p.t) / (q.t − p.t)) Wh and the rest goes
//     after b: linear in time, whole Wh, and the parts of one gap always add up to E.
//  4. Nothing is invented: energy before the first reading or after the last one is unknown and is
//     flagged (`no_opening_reading`, `no_closing_reading`); when those readings arrive later, the
//     same rules assign their energy, and a closed month's share of it becomes an adjustment.

export interface CounterReading {
  tMs: number;
  wh: number;
}
export interface Slot {
  startMs: number;
  endMs: number;
}

export type EnergyFlag =
  | { kind: 'no_readings' }
  | { kind: 'no_opening_reading'; firstReadingAt: number }
  | { kind: 'no_closing_reading'; lastReadingAt: number }
  | { kind: 'counter_reset'; at: number; fromWh: number; toWh: number };

/**
 * One counter epoch's contribution to the period, with the readings that bound it (traceability).
 * After a reset the epoch counts from zero somewhere after `opening`, the last reading before it.
 */
export interface EpochUse {
  opening: CounterReading;
  closing: CounterReading;
  afterReset: boolean;
  wh: number;
}

export interface CounterEnergy {
  slotWh: number[];
  totalWh: number;
  epochs: EpochUse[];
  flags: EnergyFlag[];
}

/** Readings sorted, same-timestamp duplicates merged, values in whole Wh. */
export function normaliseReadings(readings: readonly CounterReading[]): CounterReading[] {
  const byTime = new Map<number, number>();
  for (const r of readings) {
    if (!Number.isFinite(r.tMs) || !Number.isFinite(r.wh) || r.wh < 0)
      throw new RangeError(`invalid counter reading ${JSON.stringify(r)}`);
    const wh = Math.round(r.wh);
    byTime.set(r.tMs, Math.max(byTime.get(r.tMs) ?? 0, wh));
  }
  return [...byTime].sort((a, b) => a[0] - b[0]).map(([tMs, wh]) => ({ tMs, wh }));
}

/** Whole Wh of p → q produced by instant x (rule 3), for p.t ≤ x ≤ q.t. */
function producedBy(p: CounterReading, q: CounterReading, energyWh: number, x: number): number {
  if (x >= q.tMs) return energyWh;
  if (x <= p.tMs) return 0;
  return Number((BigInt(energyWh) * BigInt(x - p.tMs)) / BigInt(q.tMs - p.tMs));
}

/**
 * Splits the energy in the counters over consecutive slots (e.g. the days of a month). The readings
 * may extend beyond the slots on both sides: the readings just outside are what split a gap.
 */
export function energyInSlots(readings: readonly CounterReading[], slots: readonly Slot[]): CounterEnergy {
  const points = normaliseReadings(readings);
  const slotWh = slots.map(() => 0);
  const flags: EnergyFlag[] = [];
  const epochs: EpochUse[] = [];
  if (slots.length === 0) return { slotWh, totalWh: 0, epochs, flags };
  const periodStart = slots[0]!.startMs;
  const periodEnd = slots[slots.length - 1]!.endMs;
  if (points.length === 0) return { slotWh, totalWh: 0, epochs, flags: [{ kind: 'no_readings' }] };
  if (points[0]!.tMs > periodStart) flags.push({ kind: 'no_opening_reading', firstReadingAt: points[0]!.tMs });
  if (points[points.length - 1]!.tMs < periodEnd)
    flags.push({ kind: 'no_closing_reading', lastReadingAt: points[points.length - 1]!.tMs });

  let epoch: EpochUse | null = null;
  let firstSlot = 0;
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1]!;
    const q = points[i]!;
    if (q.tMs <= periodStart || p.tMs >= periodEnd) continue;
    const reset = q.wh < p.wh;
    const energyWh = reset ? q.wh : q.wh - p.wh;
    if (reset) flags.push({ kind: 'counter_reset', at: q.tMs, fromWh: p.wh, toWh: q.wh });
    let inPeriod = 0;
    while (firstSlot < slots.length && slots[firstSlot]!.endMs <= p.tMs) firstSlot++; // pairs come in time order
    for (let s = firstSlot; s < slots.length && slots[s]!.startMs < q.tMs; s++) {
      const slot = slots[s]!;
      const wh = producedBy(p, q, energyWh, slot.endMs) - producedBy(p, q, energyWh, slot.startMs);
      slotWh[s]! += wh;
      inPeriod += wh;
    }
    if (reset || epoch === null) {
      epoch = { opening: p, closing: q, afterReset: reset, wh: 0 };
      epochs.push(epoch);
    }
    epoch.closing = q;
    epoch.wh += inPeriod;
  }
  return { slotWh, totalWh: slotWh.reduce((a, b) => a + b, 0), epochs, flags };
}
