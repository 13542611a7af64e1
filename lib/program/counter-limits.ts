// What a lifetime energy counter (`energy_wh_total`) can be believed to do, physically: ingest's
// door refuses a reading beyond these limits, billing's counter model holds an epoch beyond them
// for an operator. One set of numbers, so that what the door lets in and what billing pays agree
// (billing/README.md, "The counter model", says why each rule is what it is).
import { ENERGY_READING_TOLERANCE_WH } from '../telemetry/contract';

export interface CounterLimits {
  /** A backward step up to this many Wh is noise: two readings may disagree by twice what one may be off. */
  noiseWh: number;
  /** Energy may exceed rated AC power × time by this many percent before it is implausible. */
  capacityMarginPercent: number;
}

export const COUNTER_LIMITS: CounterLimits = {
  noiseWh: 2 * ENERGY_READING_TOLERANCE_WH,
  capacityMarginPercent: 10,
};

/** The most a counter may rise in `ms` at `ratedAcW`, in Wh (the rating plus its margin, plus the noise). */
export function maxCounterRiseWh(ratedAcW: number, ms: number, limits: CounterLimits = COUNTER_LIMITS): number {
  return (ratedAcW * Math.max(0, ms) * (100 + limits.capacityMarginPercent)) / (100 * 3_600_000) + limits.noiseWh;
}

export interface CounterPoint {
  tMs: number;
  wh: number;
}

/**
 * The noise is allowed once over a stretch of readings, not once per step: a device reporting every
 * second would otherwise gain 200 Wh a second beyond its rating. A reading continues the trend when
 * it has risen from EVERY earlier trusted reading by at most `maxCounterRiseWh`; it is enough to
 * check the one it may rise least from, which this keeps: the next reading takes its place when the
 * counter rose no faster than the rating and its margin since it (a reading below it, a reset, too).
 */
export function bindingReading<P extends CounterPoint>(
  reference: P,
  next: P,
  ratedAcW: number,
  limits: CounterLimits = COUNTER_LIMITS,
): P {
  return next.wh - reference.wh <= maxCounterRiseWh(ratedAcW, next.tMs - reference.tMs, limits) - limits.noiseWh
    ? next
    : reference;
}
