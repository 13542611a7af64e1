// Rejects lifetime counters no inverter could have produced, at the door: a reading whose counter
// rose more since the device's last accepted reading than its rating allows in that time, or whose
// counter exceeds what the rating could produce in a lifetime.
//
// State: the last accepted reading per registered serial (one small entry each, pruned when the
// registry drops a serial). It lives in memory: after a restart each device's first reading is
// judged against its stored history, and jumps from then on. Workers on one share group
// each see part of a device's readings: their last accepted reading is older, so they only ever
// allow more. Billing's counter model bounds whatever gets through.
//
// Readings not newer than the device's last accepted one, and a device's first reading after a
// restart, are judged against the stored history instead (history.ts: duplicates, conflicts and
// gap fills); the newest of those seeds the last accepted reading here.
//
// A new counter on a serial (a replaced inverter) would otherwise be refused forever: an operator's
// recorded replacement after the last accepted reading lifts the check, and without one, a few
// readings that jump together but agree with each other are taken as the new counter's trend.
//
// How fast a counter may rise and how far back it may step are the program's counter limits
// (lib/program/counter-limits.ts), the ones billing's counter model holds epochs to.
import { COUNTER_LIMITS, maxCounterRiseWh } from '../../lib/program/counter-limits';

export interface DoorLimits {
  /** A counter above rating × this many years of full output cannot be real. */
  lifetimeYears: number;
}

interface Last {
  tMs: number;
  wh: number;
}
/** Jumping readings that agree with each other this many times in a row become the new trend. */
const NEW_TREND_READINGS = 3;

export class CounterGuard {
  private readonly last = new Map<string, Last>();
  private readonly jumped = new Map<string, Last & { count: number }>();
  /** Serials without a `last` have nothing stored after this instant (what the start-up read found). */
  private emptyAfterMs = Number.POSITIVE_INFINITY;

  constructor(private readonly limits: DoorLimits) {}

  get size(): number {
    return this.last.size;
  }

  /** True when the reading is not newer than the last accepted one, or none is known: judge it against the stored history. */
  needsHistory(serial: string, tMs: number): boolean {
    const last = this.last.get(serial);
    return last ? tMs <= last.tMs : tMs <= this.emptyAfterMs;
  }

  /** What a start-up read of the stored history found: each device's newest reading since `sinceMs`. */
  seedAll(newest: Map<string, Last>, sinceMs: number): void {
    for (const [serial, { tMs, wh }] of newest) this.seed(serial, tMs, wh);
    this.emptyAfterMs = sinceMs;
  }

  /** True when nothing of the device is known (a start without the stored history). */
  knowsNothingOf(serial: string): boolean {
    return !this.last.has(serial);
  }

  /** The last accepted reading as read from the stored history (after a restart), unless a newer one is known. */
  seed(serial: string, tMs: number, wh: number): void {
    const last = this.last.get(serial);
    if (!last || tMs > last.tMs) this.last.set(serial, { tMs, wh });
  }

  /**
   * Judges a valid reading and, if accepted, remembers it. Returns why it is rejected, or null.
   * `replacedAtMs`: the latest replacement an operator recorded for the serial, if any.
   */
  admit(serial: string, ratedAcW: number, replacedAtMs: number | null, tMs: number, wh: number): string | null {
    const lifetimeWh = ratedAcW * this.limits.lifetimeYears * 8766;
    if (wh > lifetimeWh)
      return `energy_wh_total ${wh} is more than a ${ratedAcW} W inverter produces in ${this.limits.lifetimeYears} years at full power (${lifetimeWh} Wh)`;
    const last = this.last.get(serial);
    if (!last) {
      this.last.set(serial, { tMs, wh });
      return null;
    }
    if (tMs <= last.tMs) return null; // judged against the stored history (needsHistory)
    const replaced = replacedAtMs !== null && replacedAtMs > last.tMs && replacedAtMs <= tMs;
    if (replaced || wh - last.wh <= maxCounterRiseWh(ratedAcW, tMs - last.tMs)) {
      this.last.set(serial, { tMs, wh });
      this.jumped.delete(serial);
      return null;
    }
    const trend = this.jumped.get(serial);
    const agrees =
      trend !== undefined &&
      tMs > trend.tMs &&
      wh >= trend.wh - COUNTER_LIMITS.noiseWh &&
      wh - trend.wh <= maxCounterRiseWh(ratedAcW, tMs - trend.tMs);
    const count = agrees ? trend.count + 1 : 1;
    if (count >= NEW_TREND_READINGS) {
      this.last.set(serial, { tMs, wh });
      this.jumped.delete(serial);
      return null;
    }
    this.jumped.set(serial, { tMs, wh, count });
    const hours = (tMs - last.tMs) / 3_600_000;
    return (
      `energy_wh_total rose ${wh - last.wh} Wh in ${hours.toFixed(3)} h since the last accepted reading (` +
      `${new Date(last.tMs).toISOString()}, ${last.wh} Wh): more than ${ratedAcW} W can produce (` +
      `${100 + COUNTER_LIMITS.capacityMarginPercent} % of it and ${COUNTER_LIMITS.noiseWh} Wh of noise)`
    );
  }

  /** Forgets serials no longer registered (bounded state). */
  retain(registered: (serial: string) => boolean): void {
    for (const serial of this.last.keys()) if (!registered(serial)) this.last.delete(serial);
    for (const serial of this.jumped.keys()) if (!registered(serial)) this.jumped.delete(serial);
  }
}
