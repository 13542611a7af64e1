// Rejects lifetime counters no inverter could have produced, at the door: a reading whose counter
// rose more since any of the device's accepted readings than its rating allows in that time (the
// noise allowed once over the stretch, not at every step: `bindingReading`), or whose counter
// exceeds what the rating could produce in a lifetime.
//
// State: per registered serial, the last accepted reading and the one the counter may rise least
// from (pruned when the registry drops a serial). It lives in memory: after a restart each device's
// first reading is judged against its stored history, and jumps from then on. Workers on one share
// group each see part of a device's readings: their references are older, so they only ever allow
// more. Billing's counter model bounds whatever gets through.
//
// Readings not newer than the device's last accepted one, and a device's first reading after a
// restart, are judged against the stored history instead (history.ts: duplicates, conflicts and
// gap fills); the newest of those seeds the last accepted reading here.
//
// A new counter on a serial (a replaced inverter) would otherwise be refused forever: an operator's
// recorded replacement after the last accepted reading lifts the check, and without one, readings
// that jump together and agree with each other for 3 readings and 10 minutes (what a logger
// reporting every 5 minutes gives) are taken as the new counter's trend. The 10 minutes keep a
// counter creeping faster than its rating from passing as a new counter every few readings.
//
// How fast a counter may rise and how far back it may step are the program's counter limits
// (lib/program/counter-limits.ts), the ones billing's counter model holds epochs to.
import { bindingReading, COUNTER_LIMITS, type CounterPoint, maxCounterRiseWh } from '../../lib/program/counter-limits';

export interface DoorLimits {
  /** A counter above rating × this many years of full output cannot be real. */
  lifetimeYears: number;
}

/** A device's last accepted reading and the accepted reading its counter may rise least from (`bindingReading`). */
interface Known {
  last: CounterPoint;
  reference: CounterPoint;
}
/** Jumping readings that agree with each other this many times in a row, over at least this long, become the new trend. */
const NEW_TREND_READINGS = 3;
const NEW_TREND_MS = 600_000;
/** Readings that jumped from the trend and agree with each other so far. */
interface Jump extends Known {
  sinceMs: number;
  count: number;
}

export class CounterGuard {
  private readonly known = new Map<string, Known>();
  private readonly jumped = new Map<string, Jump>();
  /** Serials without a `last` have nothing stored after this instant (what the start-up read found). */
  private emptyAfterMs = Number.POSITIVE_INFINITY;

  constructor(private readonly limits: DoorLimits) {}

  get size(): number {
    return this.known.size;
  }

  /** True when the reading is not newer than the last accepted one, or none is known: judge it against the stored history. */
  needsHistory(serial: string, tMs: number): boolean {
    const known = this.known.get(serial);
    return known ? tMs <= known.last.tMs : tMs <= this.emptyAfterMs;
  }

  /** What a start-up read of the stored history found: each device's newest reading since `sinceMs`. */
  seedAll(newest: Map<string, CounterPoint>, sinceMs: number): void {
    for (const [serial, { tMs, wh }] of newest) this.seed(serial, tMs, wh);
    this.emptyAfterMs = sinceMs;
  }

  /** True when nothing of the device is known (a start without the stored history). */
  knowsNothingOf(serial: string): boolean {
    return !this.known.has(serial);
  }

  /** The last accepted reading as read from the stored history (after a restart), unless a newer one is known. */
  seed(serial: string, tMs: number, wh: number): void {
    const known = this.known.get(serial);
    if (!known || tMs > known.last.tMs) this.restart(serial, tMs, wh);
  }

  /** The reading starts the device's trend afresh: nothing before it bounds what follows. */
  private restart(serial: string, tMs: number, wh: number): void {
    const last = { tMs, wh };
    this.known.set(serial, { last, reference: last });
  }

  /**
   * Judges a valid reading and, if accepted, remembers it. Returns why it is rejected, or null.
   * `replacedAtMs`: the latest replacement an operator recorded for the serial, if any.
   */
  admit(serial: string, ratedAcW: number, replacedAtMs: number | null, tMs: number, wh: number): string | null {
    const lifetimeWh = ratedAcW * this.limits.lifetimeYears * 8766;
    if (wh > lifetimeWh)
      return `energy_wh_total ${wh} is more than a ${ratedAcW} W inverter produces in ${this.limits.lifetimeYears} years at full power (${lifetimeWh} Wh)`;
    const known = this.known.get(serial);
    if (!known) {
      this.restart(serial, tMs, wh);
      return null;
    }
    const { last, reference } = known;
    if (tMs <= last.tMs) return null; // judged against the stored history (needsHistory)
    const replaced = replacedAtMs !== null && replacedAtMs > last.tMs && replacedAtMs <= tMs;
    if (replaced) {
      this.restart(serial, tMs, wh);
      this.jumped.delete(serial);
      return null;
    }
    if (wh - reference.wh <= maxCounterRiseWh(ratedAcW, tMs - reference.tMs)) {
      known.last = { tMs, wh };
      known.reference = bindingReading(reference, known.last, ratedAcW);
      this.jumped.delete(serial);
      return null;
    }
    const jump = this.jumped.get(serial);
    const next = { tMs, wh };
    if (
      jump !== undefined &&
      tMs > jump.last.tMs &&
      wh >= jump.last.wh - COUNTER_LIMITS.noiseWh &&
      wh - jump.reference.wh <= maxCounterRiseWh(ratedAcW, tMs - jump.reference.tMs)
    ) {
      jump.last = next;
      jump.reference = bindingReading(jump.reference, next, ratedAcW);
      jump.count += 1;
      if (jump.count >= NEW_TREND_READINGS && tMs - jump.sinceMs >= NEW_TREND_MS) {
        this.known.set(serial, { last: jump.last, reference: jump.reference });
        this.jumped.delete(serial);
        return null;
      }
    } else this.jumped.set(serial, { last: next, reference: next, sinceMs: tMs, count: 1 });
    const hours = (tMs - reference.tMs) / 3_600_000;
    return (
      `energy_wh_total rose ${wh - reference.wh} Wh in ${hours.toFixed(3)} h since the ${reference === last ? 'last ' : ''}accepted ` +
      `reading (${new Date(reference.tMs).toISOString()}, ${reference.wh} Wh): more than ${ratedAcW} W can produce (` +
      `${100 + COUNTER_LIMITS.capacityMarginPercent} % of it and ${COUNTER_LIMITS.noiseWh} Wh of noise)`
    );
  }

  /** Forgets serials no longer registered (bounded state). */
  retain(registered: (serial: string) => boolean): void {
    for (const serial of this.known.keys()) if (!registered(serial)) this.known.delete(serial);
    for (const serial of this.jumped.keys()) if (!registered(serial)) this.jumped.delete(serial);
  }
}
