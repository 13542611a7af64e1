// Energy from lifetime counters (invariant 2). Pure. A counter is evidence, not truth: this module
// tells noise, glitches, resets, replacements and impossible values apart. The rules, their
// tolerances and why are written once in billing/README.md, "The counter model"; the numbers below
// (rule 1 … rule 8) refer to its list.
import {
  bindingReading,
  COUNTER_LIMITS,
  type CounterLimits,
  maxCounterRiseWh,
} from '../../../lib/program/counter-limits';

export interface CounterReading {
  tMs: number;
  wh: number;
}
export interface Slot {
  startMs: number;
  endMs: number;
}

/** Tolerances of the counter model (README: "The counter model"): the program's counter limits, shared with ingest's door, and billing's own glitch length. */
export interface CounterRules extends CounterLimits {
  /** At most this many consecutive readings form a glitch. */
  glitchReadings: number;
}
export const COUNTER_RULES: CounterRules = { ...COUNTER_LIMITS, glitchReadings: 5 };

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

/**
 * Reading the counters (README): a counter whose rise over a period falls short of what its own AC
 * power readings integrate to (the hourly rollup) by more than 10 % and 1 kWh fell back unseen
 * between the readings at the cuts, e.g. a little every night: the reader reads it in full.
 */
export const POWER_CHECK = { percent: 90, slackWh: 1000 };
export const countedBelowPower = (countedWh: number, powerWh: number | undefined): boolean =>
  powerWh !== undefined && countedWh * 100 < powerWh * POWER_CHECK.percent - POWER_CHECK.slackWh * 100;

/** Rule 6: the most any epoch (or an operator's decision) may bill over `ms`, in whole Wh. */
export function capacityBoundWh(ratedAcW: number, ms: number, rules: CounterRules = COUNTER_RULES): number {
  return Math.floor(maxCounterRiseWh(ratedAcW, ms, rules));
}

interface Epoch {
  start: EpochStart;
  /** The reading before the epoch (the previous epoch's last trusted one), null for the first epoch. */
  before: CounterReading | null;
  points: CounterReading[];
  /** The highest value the epoch has reached (noise below it creates and loses nothing). */
  level: number;
  /** The trusted reading the counter may rise least from (rule 2: the noise once over the epoch, not at every step). */
  reference: CounterReading;
  /** Energy of before → points[0]: billable and as read. */
  firstWh: number;
  firstReadWh: number;
}

/**
 * Rules 2–5: the readings grouped into epochs, glitches removed. `pending` is an excursion still
 * open at the last reading (neither back to the trend nor confirmed at a new level).
 */
function cleanEpochs(
  points: readonly CounterReading[],
  context: CounterContext,
  rules: CounterRules,
  glitches: EnergyFlag[],
): { epochs: Epoch[]; pending: CounterReading[] } {
  const epochs: Epoch[] = [];
  const replacements = [...(context.replacements ?? [])].sort((a, b) => a.atMs - b.atMs);
  let excursion: CounterReading[] = [];
  const startEpoch = (
    start: EpochStart,
    before: CounterReading | null,
    q: CounterReading,
    firstWh: number,
    firstReadWh: number,
  ) => epochs.push({ start, before, points: [q], level: q.wh, reference: q, firstWh, firstReadWh });
  const feed = (q: CounterReading): void => {
    const epoch = epochs[epochs.length - 1];
    if (!epoch) {
      startEpoch('first', null, q, 0, 0);
      return;
    }
    const p = epoch.points[epoch.points.length - 1]!;
    const seen = excursion[excursion.length - 1] ?? p;
    const replaced =
      replacements.length === 0 ? undefined : replacements.filter((r) => r.atMs > seen.tMs && r.atMs <= q.tMs).pop();
    if (replaced) {
      // The old counter's unconfirmed readings before the swap: nothing proves them.
      if (excursion.length > 0) glitches.push({ kind: 'glitch', at: q.tMs, ignored: excursion });
      excursion = [];
      const counted =
        replaced.initialWh !== null &&
        q.wh >= replaced.initialWh &&
        q.wh - replaced.initialWh <= maxCounterRiseWh(context.ratedAcW, q.tMs - replaced.atMs, rules)
          ? q.wh - replaced.initialWh
          : 0;
      startEpoch('replacement', p, q, counted, counted);
      return;
    }
    // Rules 2 and 3: q continues the epoch's trend (within the noise of its level, and the rating
    // since each of its trusted readings), whatever the readings of an excursion since p did.
    const { reference } = epoch;
    if (
      q.wh >= epoch.level - rules.noiseWh &&
      q.wh - reference.wh <= maxCounterRiseWh(context.ratedAcW, q.tMs - reference.tMs, rules)
    ) {
      if (excursion.length > 0) glitches.push({ kind: 'glitch', at: q.tMs, ignored: excursion });
      excursion = [];
      epoch.points.push(q);
      epoch.level = Math.max(epoch.level, q.wh);
      epoch.reference = bindingReading(reference, q, context.ratedAcW, rules);
      return;
    }
    excursion.push(q);
    if (excursion.length <= rules.glitchReadings) return;
    // Rule 4: the counter stayed away: a new epoch from the excursion's first reading, the rest
    // judged against it (they may hold a glitch of their own).
    const [first, ...rest] = excursion as [CounterReading, ...CounterReading[]];
    excursion = [];
    if (first.wh < epoch.level) {
      const counted = first.wh <= maxCounterRiseWh(context.ratedAcW, first.tMs - p.tMs, rules) ? first.wh : 0;
      startEpoch('reset', p, first, counted, counted);
    } else startEpoch('jump', p, first, 0, first.wh - epoch.level);
    for (const x of rest) feed(x);
  };
  for (const q of points) feed(q);
  return { epochs, pending: excursion };
}

/** Whole Wh of p → q produced by instant x (rule 7), for p.t ≤ x ≤ q.t. */
export function producedBy(p: CounterReading, q: CounterReading, energyWh: number, x: number): number {
  if (x >= q.tMs) return energyWh;
  if (x <= p.tMs) return 0;
  const elapsed = x - p.tMs;
  const span = q.tMs - p.tMs;
  const product = energyWh * elapsed;
  // In doubles while exact (every day of every inverter goes through here; BigInt is many times
  // slower): the quotient of two exact integers rounds to the floor or one above it, never below.
  if (energyWh >= 0 && product + span <= Number.MAX_SAFE_INTEGER) {
    const whole = Math.floor(product / span);
    return whole * span > product ? whole - 1 : whole;
  }
  return Number((BigInt(energyWh) * BigInt(elapsed)) / BigInt(span));
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
  const { epochs: cleaned, pending } = cleanEpochs(normaliseReadings(readings), context, rules, glitches);
  const points = cleaned.flatMap((e) => e.points);
  // Rule 8: readings that broke the trend are believed only once later ones confirm them; until
  // then the period waits if its energy depends on them (its last trusted reading is inside it).
  if (pending.length > 0 && points[points.length - 1]!.tMs < periodEnd)
    flags.push({ kind: 'unconfirmed_reading', at: pending[0]!.tMs, wh: pending[0]!.wh });
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
    const boundWh = capacityBoundWh(context.ratedAcW, closing.tMs - opening.tMs, rules);
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
