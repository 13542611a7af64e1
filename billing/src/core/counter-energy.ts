// Energy from lifetime counters (invariant 2). Pure. A counter is evidence, not truth: this module
// tells noise, glitches, resets, replacements and impossible values apart (billing/README.md, "The
// counter model", states the rules and why each tolerance is what it is).
//
//  1. Readings are sorted by time; readings with the same timestamp are one reading (the larger
//     value wins, so arrival order never matters). Counter values are rounded to whole Wh.
//  2. Consistent step p → q: q ≥ p − noise and q − p ≤ what the rated AC power could deliver in
//     q.t − p.t (plus the margin). It yields max(0, q − level), level being the highest value seen
//     in the epoch: a step back within the noise tolerance creates and loses nothing.
//  3. An inconsistent reading starts an excursion. If within `glitchReadings` readings the counter
//     returns to the trend before the excursion (consistent with its last reading), the excursion
//     was a glitch and its readings are ignored. (A rise made of consistent steps is not an
//     excursion: it may be real, and dropping back from it is a reset.)
//  4. Otherwise a drop is a reset (new epoch): q counts as energy if the rating could have produced
//     q since p (the counter restarted from zero in the gap), else nothing (a counter restarted
//     elsewhere: someone else's energy). A jump beyond the rating is not billed: the installation
//     is held as implausible, naming p and q, for an operator.
//  5. An operator-recorded replacement at instant t starts a new epoch on the first reading after t:
//     it yields q − the new counter's initial value when that is known and plausible, else nothing.
//     A lifetime total is never counted again.
//  6. Capacity bound: no epoch yields more than rated power × its time span (plus the margin);
//     energy above it is not billed and the installation is held as implausible.
//  7. The energy of p → q belongs to the instants (p.t, q.t]: a reading exactly at a boundary closes
//     the slot before it. A step spanning slot boundaries is split linearly in time, in whole Wh,
//     floor(E × (b − p.t) / (q.t − p.t)) before b, the parts always adding up to E.
//  8. Nothing is invented: energy before the first reading or after the last one is unknown and is
//     flagged (`no_opening_reading`, `no_closing_reading`); a last reading that breaks the trend
//     waits for the next one to confirm it (`unconfirmed_reading`). When readings arrive later,
//     the same rules assign their energy; a closed month's share of it becomes an adjustment.

export interface CounterReading {
  tMs: number;
  wh: number;
}
export interface Slot {
  startMs: number;
  endMs: number;
}

/** Tolerances of the counter model (README: "The counter model"). */
export interface CounterRules {
  /** A backward step up to this many Wh is noise. */
  noiseWh: number;
  /** Energy may exceed rated AC power × time by this many percent before it is implausible. */
  capacityMarginPercent: number;
  /** At most this many consecutive readings form a glitch. */
  glitchReadings: number;
}
export const COUNTER_RULES: CounterRules = { noiseWh: 100, capacityMarginPercent: 10, glitchReadings: 5 };

/** The inverter behind a counter: its rating and the replacements an operator recorded. */
export interface CounterContext {
  ratedAcW: number;
  replacements?: readonly Replacement[];
}
/** A new inverter (or counter) on the same serial from `atMs`; `initialWh` is its counter then, if known. */
export interface Replacement {
  atMs: number;
  initialWh: number | null;
}

export type EnergyFlag =
  | { kind: 'no_readings' }
  | { kind: 'no_opening_reading'; firstReadingAt: number }
  | { kind: 'no_closing_reading'; lastReadingAt: number }
  | { kind: 'unconfirmed_reading'; at: number; wh: number }
  | { kind: 'counter_reset'; at: number; fromWh: number; toWh: number; countedWh: number }
  | { kind: 'replacement'; at: number; fromWh: number; toWh: number; countedWh: number }
  | { kind: 'glitch'; at: number; ignored: CounterReading[] }
  | { kind: 'counter_jump'; at: number; fromWh: number; toWh: number; fromAt: number }
  | { kind: 'over_capacity'; from: number; to: number; wh: number; boundWh: number };

/** Flags that mean the energy is not (yet) known. */
export const MISSING_DATA_FLAGS: readonly EnergyFlag['kind'][] = [
  'no_readings',
  'no_opening_reading',
  'no_closing_reading',
  'unconfirmed_reading',
];
/** Flags that hold an installation for an operator: energy that the rating could not have produced. */
export const IMPLAUSIBLE_FLAGS: readonly EnergyFlag['kind'][] = ['counter_jump', 'over_capacity'];
/** Flags after which the reader should look at every reading around the period, not only at its edges. */
export const NEEDS_ALL_READINGS: readonly EnergyFlag['kind'][] = [
  'counter_reset',
  'glitch',
  'counter_jump',
  'over_capacity',
  'unconfirmed_reading',
];

export type EpochStart = 'first' | 'reset' | 'replacement' | 'jump';

/**
 * One counter epoch's contribution to the period, with the readings that bound it (traceability).
 * `opening` is the reading before the epoch's first one when the epoch started at a reset,
 * replacement or jump; `heldWh` is what the epoch read beyond what it may bill.
 */
export interface EpochUse {
  opening: CounterReading;
  closing: CounterReading;
  start: EpochStart;
  wh: number;
  heldWh: number;
}

export interface CounterEnergy {
  /** Billable Wh per slot. */
  slotWh: number[];
  totalWh: number;
  /** Wh per slot as read, implausible energy included (what an operator's "accept" bills). */
  readSlotWh: number[];
  heldWh: number;
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

/** The most a counter may rise in `ms` at `ratedAcW` (rule 2), in Wh. */
export function maxRiseWh(ratedAcW: number, ms: number, rules: CounterRules = COUNTER_RULES): number {
  return (ratedAcW * Math.max(0, ms) * (100 + rules.capacityMarginPercent)) / (100 * 3_600_000) + rules.noiseWh;
}

interface Epoch {
  start: EpochStart;
  /** The reading before the epoch (the previous epoch's last), null for the first epoch. */
  before: CounterReading | null;
  points: CounterReading[];
  /** Energy of before → points[0]: billable and as read. */
  firstWh: number;
  firstReadWh: number;
}

/** Rules 2–5: the readings grouped into epochs, glitches removed. */
function cleanEpochs(
  points: readonly CounterReading[],
  context: CounterContext,
  rules: CounterRules,
  glitches: EnergyFlag[],
): Epoch[] {
  const epochs: Epoch[] = [];
  const replacements = [...(context.replacements ?? [])].sort((a, b) => a.atMs - b.atMs);
  const consistent = (a: CounterReading, b: CounterReading) =>
    b.wh >= a.wh - rules.noiseWh && b.wh - a.wh <= maxRiseWh(context.ratedAcW, b.tMs - a.tMs, rules);
  for (const q of points) {
    const epoch = epochs[epochs.length - 1];
    if (!epoch) {
      epochs.push({ start: 'first', before: null, points: [q], firstWh: 0, firstReadWh: 0 });
      continue;
    }
    const p = epoch.points[epoch.points.length - 1]!;
    const replaced =
      replacements.length === 0 ? undefined : replacements.filter((r) => r.atMs > p.tMs && r.atMs <= q.tMs).pop();
    if (replaced) {
      const counted =
        replaced.initialWh !== null &&
        q.wh >= replaced.initialWh &&
        q.wh - replaced.initialWh <= maxRiseWh(context.ratedAcW, q.tMs - replaced.atMs, rules)
          ? q.wh - replaced.initialWh
          : 0;
      epochs.push({ start: 'replacement', before: p, points: [q], firstWh: counted, firstReadWh: counted });
      continue;
    }
    // Rule 3: a young epoch (at most `glitchReadings` readings; after a drop, one that has not risen
    // yet) that q leaves to return to the trend before it. Tested first: when q could also continue
    // it, the reading that bills less is believed.
    const young =
      epoch.points.length <= rules.glitchReadings &&
      (epoch.start === 'jump' ||
        (epoch.start === 'reset' && Math.max(...epoch.points.map((x) => x.wh)) <= epoch.points[0]!.wh + rules.noiseWh));
    if (young && consistent(epoch.before!, q)) {
      epochs.pop();
      glitches.push({ kind: 'glitch', at: q.tMs, ignored: epoch.points });
      epochs[epochs.length - 1]!.points.push(q);
      continue;
    }
    if (consistent(p, q)) {
      epoch.points.push(q);
      continue;
    }
    if (q.wh < p.wh) {
      const counted = q.wh <= maxRiseWh(context.ratedAcW, q.tMs - p.tMs, rules) ? q.wh : 0;
      epochs.push({ start: 'reset', before: p, points: [q], firstWh: counted, firstReadWh: counted });
    } else epochs.push({ start: 'jump', before: p, points: [q], firstWh: 0, firstReadWh: q.wh - p.wh });
  }
  return epochs;
}

/** Whole Wh of p → q produced by instant x (rule 7), for p.t ≤ x ≤ q.t. */
function producedBy(p: CounterReading, q: CounterReading, energyWh: number, x: number): number {
  if (x >= q.tMs) return energyWh;
  if (x <= p.tMs) return 0;
  return Number((BigInt(energyWh) * BigInt(x - p.tMs)) / BigInt(q.tMs - p.tMs));
}

interface Step {
  p: CounterReading;
  q: CounterReading;
  wh: number;
  readWh: number;
}

/**
 * Splits the energy in the counters over consecutive slots (e.g. the days of a month, or any
 * [from, to) cut into pieces). The readings may extend beyond the slots on both sides: the readings
 * just outside are what split a gap, and further ones help tell a glitch from a reset.
 */
export function energyInSlots(
  readings: readonly CounterReading[],
  slots: readonly Slot[],
  context: CounterContext,
  rules: CounterRules = COUNTER_RULES,
): CounterEnergy {
  const slotWh = slots.map(() => 0);
  const readSlotWh = slots.map(() => 0);
  const flags: EnergyFlag[] = [];
  const epochs: EpochUse[] = [];
  const empty = { slotWh, totalWh: 0, readSlotWh, heldWh: 0, epochs, flags };
  if (slots.length === 0) return empty;
  const periodStart = slots[0]!.startMs;
  const periodEnd = slots[slots.length - 1]!.endMs;
  const glitches: EnergyFlag[] = [];
  const cleaned = cleanEpochs(normaliseReadings(readings), context, rules, glitches);
  // Rule 8: a last reading that broke the trend is believed only once a later one confirms it.
  const last = cleaned[cleaned.length - 1];
  if (last && last.start !== 'first' && last.start !== 'replacement' && last.points.length === 1) {
    cleaned.pop();
    flags.push({ kind: 'unconfirmed_reading', at: last.points[0]!.tMs, wh: last.points[0]!.wh });
  }
  const points = cleaned.flatMap((e) => e.points);
  if (points.length === 0) return { ...empty, flags: [{ kind: 'no_readings' }, ...flags] };
  if (points[0]!.tMs > periodStart) flags.push({ kind: 'no_opening_reading', firstReadingAt: points[0]!.tMs });
  if (points[points.length - 1]!.tMs < periodEnd)
    flags.push({ kind: 'no_closing_reading', lastReadingAt: points[points.length - 1]!.tMs });

  let firstSlot = 0;
  for (const epoch of cleaned) {
    const steps: Step[] = [];
    if (epoch.before)
      steps.push({ p: epoch.before, q: epoch.points[0]!, wh: epoch.firstWh, readWh: epoch.firstReadWh });
    let level = epoch.points[0]!.wh;
    for (let i = 1; i < epoch.points.length; i++) {
      const q = epoch.points[i]!;
      const wh = Math.max(0, q.wh - level);
      level = Math.max(level, q.wh);
      steps.push({ p: epoch.points[i - 1]!, q, wh, readWh: wh });
    }
    if (steps.length === 0) continue;
    const opening = steps[0]!.p;
    const closing = steps[steps.length - 1]!.q;
    if (closing.tMs <= periodStart || opening.tMs >= periodEnd) continue;
    // Rule 6: the epoch's billable energy, scaled down to the bound when it exceeds it.
    const whole = steps.reduce((s, x) => s + x.wh, 0);
    const boundWh = Math.floor(maxRiseWh(context.ratedAcW, closing.tMs - opening.tMs, rules));
    if (whole > boundWh) {
      flags.push({ kind: 'over_capacity', from: opening.tMs, to: closing.tMs, wh: whole, boundWh });
      // Cumulative floors: the scaled steps add up to the bound exactly.
      let before = 0;
      let scaledBefore = 0;
      for (const step of steps) {
        before += step.wh;
        const scaled = Number((BigInt(before) * BigInt(boundWh)) / BigInt(whole));
        step.wh = scaled - scaledBefore;
        scaledBefore = scaled;
      }
    }
    if (epoch.start === 'reset' || epoch.start === 'replacement')
      flags.push({
        kind: epoch.start === 'reset' ? 'counter_reset' : 'replacement',
        at: epoch.points[0]!.tMs,
        fromWh: epoch.before!.wh,
        toWh: epoch.points[0]!.wh,
        countedWh: epoch.firstWh,
      });
    if (epoch.start === 'jump')
      flags.push({
        kind: 'counter_jump',
        at: epoch.points[0]!.tMs,
        fromWh: epoch.before!.wh,
        toWh: epoch.points[0]!.wh,
        fromAt: epoch.before!.tMs,
      });
    // The readings that bound the epoch's use of the period (traceability).
    const used = steps.filter((x) => x.q.tMs > periodStart && x.p.tMs < periodEnd);
    const use: EpochUse = {
      opening: used[0]!.p,
      closing: used[used.length - 1]!.q,
      start: epoch.start,
      wh: 0,
      heldWh: 0,
    };
    for (const { p, q, wh, readWh } of used) {
      while (firstSlot < slots.length && slots[firstSlot]!.endMs <= p.tMs) firstSlot++; // steps come in time order
      for (let s = firstSlot; s < slots.length && slots[s]!.startMs < q.tMs; s++) {
        const slot = slots[s]!;
        const part = producedBy(p, q, wh, slot.endMs) - producedBy(p, q, wh, slot.startMs);
        const readPart = producedBy(p, q, readWh, slot.endMs) - producedBy(p, q, readWh, slot.startMs);
        slotWh[s]! += part;
        readSlotWh[s]! += readPart;
        use.wh += part;
        use.heldWh += readPart - part;
      }
    }
    epochs.push(use);
  }
  const inPeriod = (t: number) => t > periodStart && t <= periodEnd;
  flags.push(
    ...glitches.filter((g) => g.kind === 'glitch' && (inPeriod(g.at) || g.ignored.some((r) => inPeriod(r.tMs)))),
  );
  const totalWh = slotWh.reduce((a, b) => a + b, 0);
  return { slotWh, totalWh, readSlotWh, heldWh: readSlotWh.reduce((a, b) => a + b, 0) - totalWh, epochs, flags };
}
