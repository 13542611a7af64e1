// The lifetime energy counter as the gateway publishes it, pure: a 32-bit accumulator extended
// past its wrap, and a read that no inverter could have produced held back until the next read
// confirms it. Billing pays counters, so a garbage read must never reach the platform as energy.

/** One read of the energy counter. `acc32`: WH of models 101-103, raw and scale factor, for wrap tracking. */
export interface EnergySample {
  wh: number;
  acc32?: { raw: number; sf: number };
}

export interface CounterState {
  /** The last accepted accumulator read, and the Wh its earlier wraps add. */
  acc?: { raw: number; sf: number; offsetWh: number };
  /** The last published counter and when it was read (monotonic ms: the wall clock may be wrong). */
  accepted?: { wh: number; atMs: number };
  /** An implausible read waiting for the next read to confirm it. */
  pending?: { wh: number; atMs: number; acc?: CounterState['acc'] };
}

export type CounterOutcome =
  | { publish: true; wh: number; state: CounterState; note?: string }
  | { publish: false; state: CounterState; error: string };

const ACC32_RANGE = 2 ** 32;
/** Headroom over the rating: inverters overshoot briefly, and reads are not exactly periodic. */
const RATING_HEADROOM = 1.25;
/** Wh a counter may rise regardless of time: its last digit and rounding of the scale factor. */
const SLACK_WH = 1;

function extend(acc: CounterState['acc'], sample: EnergySample): { wh: number; acc?: CounterState['acc'] } {
  if (!sample.acc32) return { wh: sample.wh, acc };
  const { raw, sf } = sample.acc32;
  let offsetWh = acc?.offsetWh ?? 0;
  // A wrap lands just past zero: the raw value falls by more than half the range. A vendor that
  // changes the scale factor rescales the same counter, so earlier wraps keep their Wh.
  if (acc && acc.sf === sf && raw < acc.raw && acc.raw - raw > ACC32_RANGE / 2) offsetWh += ACC32_RANGE * 10 ** sf;
  return { wh: sample.wh + offsetWh, acc: { raw, sf, offsetWh } };
}

/** Could a counter at `from` read `wh` after `elapsedMs` on an inverter of `ratedAcW`? */
function plausible(from: number, wh: number, elapsedMs: number, ratedAcW: number | undefined): boolean {
  if (wh < from) return false;
  if (ratedAcW === undefined) return true;
  return wh - from <= (ratedAcW * RATING_HEADROOM * Math.max(0, elapsedMs)) / 3_600_000 + SLACK_WH;
}

/**
 * Decides whether a read of the counter is published. A read that rises within what the rating
 * allows is published. Anything else (backwards, or a jump no inverter could make) is held and
 * reported; if the next read continues plausibly from it, the change is real (an inverter reset
 * or replaced: the platform starts a new counter epoch) and it is published; otherwise it was a
 * garbage read and is dropped. Nothing is lost by holding: the next published counter carries
 * the energy.
 */
export function advanceCounter(
  state: CounterState,
  sample: EnergySample,
  atMs: number,
  ratedAcW: number | undefined,
): CounterOutcome {
  const { wh, acc } = extend(state.acc, sample);
  if (!Number.isFinite(wh) || wh < 0) return { publish: false, state, error: `energy ${wh} Wh is not a counter` };
  const { accepted, pending } = state;
  if (!accepted || plausible(accepted.wh, wh, atMs - accepted.atMs, ratedAcW))
    return { publish: true, wh, state: { acc, accepted: { wh, atMs } } };
  // Measured from the held read, the accumulator's earlier wraps are the held read's.
  const fromPending = pending && extend(pending.acc, sample);
  if (pending && fromPending && plausible(pending.wh, fromPending.wh, atMs - pending.atMs, ratedAcW))
    return {
      publish: true,
      wh: fromPending.wh,
      state: { acc: fromPending.acc, accepted: { wh: fromPending.wh, atMs } },
      note: `energy counter moved from ${accepted.wh} to ${pending.wh} Wh and the next read confirmed it (inverter reset or replaced?)`,
    };
  const why =
    wh < accepted.wh
      ? `went back from ${accepted.wh} to ${wh} Wh`
      : `rose ${Math.round(wh - accepted.wh)} Wh in ${Math.round((atMs - accepted.atMs) / 1000)} s, more than ${ratedAcW} W could produce`;
  return {
    publish: false,
    state: { acc: state.acc, accepted, pending: { wh, atMs, acc } },
    error: `energy counter ${why}: held until the next read confirms it`,
  };
}
