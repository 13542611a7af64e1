import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTER_RULES,
  type CounterReading,
  energyInSlots,
  producedBy,
  IMPLAUSIBLE_FLAGS,
  MISSING_DATA_FLAGS,
  type Replacement,
} from './counter-energy';
import { counterHistory, simulateCounter } from '../../test/counter-histories';

const H = 3_600_000;
const day = (i: number) => ({ startMs: i * 24 * H, endMs: (i + 1) * 24 * H });
const r = (hours: number, wh: number): CounterReading => ({ tMs: hours * H, wh });
const A_MONTH = Array.from({ length: 30 }, (_, i) => day(i));
const ROOF = { ratedAcW: 5000 };
const TRUE_MONTH_WH = 30 * 12_400;

/** A 5 kW roof's hourly counter: 1,000 Wh in each hour from 06:00 to 18:00, 400 Wh from 18:00 to 19:00. */
const producedInHour = (hour: number) => {
  const h = ((hour % 24) + 24) % 24;
  return h >= 6 && h < 18 ? 1000 : h === 18 ? 400 : 0;
};
function roofCounter(fromHour: number, toHour: number, startWh: number): CounterReading[] {
  const out: CounterReading[] = [];
  let wh = startWh;
  for (let h = fromHour; h <= toHour; h++) {
    if (h > fromHour) wh += producedInHour(h - 1);
    out.push(r(h, wh));
  }
  return out;
}
const aMonthOf = (startWh: number) => roofCounter(-48, 30 * 24 + 48, startWh);
const kinds = (e: { flags: { kind: string }[] }) => e.flags.map((f) => f.kind);
const implausible = (e: { flags: { kind: string }[] }) =>
  e.flags.some((f) => (IMPLAUSIBLE_FLAGS as string[]).includes(f.kind));

describe('energyInSlots: the basic rules', () => {
  it('is the increase of the counter, whatever the order and the duplicates', () => {
    const readings = [r(0, 1000), r(6, 1500.4), r(12, 4000), r(18, 4200), r(24, 4200)];
    const shuffled = [readings[3]!, readings[0]!, readings[4]!, readings[1]!, readings[2]!, readings[2]!, readings[0]!];
    const e = energyInSlots(shuffled, [day(0)], ROOF);
    expect(e.totalWh).toBe(3200);
    expect(e.flags).toEqual([]);
    expect(e.epochs).toEqual([
      { opening: { tMs: 0, wh: 1000 }, closing: { tMs: 24 * H, wh: 4200 }, start: 'first', wh: 3200, heldWh: 0 },
    ]);
    expect(energyInSlots(readings, [day(0)], ROOF)).toEqual(e);
  });

  it('gives a reading at a boundary to the slot it closes', () => {
    const e = energyInSlots([r(20, 0), r(24, 400), r(28, 900)], [day(0), day(1)], ROOF);
    expect(e.slotWh).toEqual([400, 500]);
  });

  it('splits a gap across a boundary linearly in time, in whole Wh that add up to the gap', () => {
    const e = energyInSlots([r(12, 0), r(18, 500), r(33, 1500), r(40, 1501)], [day(0), day(1)], ROOF);
    expect(e.slotWh).toEqual([500 + 400, 600 + 1]);
    const thirds = energyInSlots([r(0, 0), r(72, 1001)], [day(0), day(1), day(2)], ROOF);
    expect(thirds.slotWh).toEqual([333, 334, 334]);
  });

  it('flags what it does not know instead of inventing energy', () => {
    expect(energyInSlots([], [day(0)], ROOF)).toMatchObject({ totalWh: 0, flags: [{ kind: 'no_readings' }] });
    const late = energyInSlots([r(6, 100), r(18, 900)], [day(0)], ROOF);
    expect(late.totalWh).toBe(800);
    expect(late.flags).toEqual([
      { kind: 'no_opening_reading', firstReadingAt: 6 * H },
      { kind: 'no_closing_reading', lastReadingAt: 18 * H },
    ]);
  });

  it('waits for a later reading to confirm a last reading that breaks the trend', () => {
    const e = energyInSlots([r(0, 5000), r(12, 6000), r(25, 3)], [day(0)], ROOF);
    expect(e.totalWh).toBe(1000);
    expect(kinds(e)).toEqual(['unconfirmed_reading', 'no_closing_reading']);
  });
});

// Each of these counter histories was billed wrongly by an earlier model.
describe('energyInSlots: a counter cannot fool it', () => {
  it('a 1 Wh step back (float jitter) mid-month or across the month-end reading is noise', () => {
    const readings = aMonthOf(10_000_000.5);
    const mid = readings.map((x, i) => (i === 400 ? { ...x, wh: readings[399]!.wh - 0.01 } : x));
    expect(mid[399]!.wh - mid[400]!.wh).toBeCloseTo(0.01);
    const e = energyInSlots(mid, A_MONTH, ROOF);
    expect(Math.abs(e.totalWh - TRUE_MONTH_WH)).toBeLessThanOrEqual(1);
    expect(e.flags).toEqual([]);
    // Across the end: the last reading before it is .5, the first after it .49 (rounded: 1 Wh back).
    const endIndex = readings.findIndex((x) => x.tMs === 30 * 24 * H);
    const atEnd = [
      ...readings.slice(0, endIndex),
      { tMs: 30 * 24 * H, wh: 10_500_000.5 },
      { tMs: 30 * 24 * H + 1, wh: 10_500_000.49 },
    ];
    const edge = energyInSlots(
      [atEnd[0]!, atEnd[48]!, ...atEnd.slice(-2)].map((x) => ({ ...x })),
      A_MONTH,
      ROOF,
    );
    expect(edge.epochs).toHaveLength(1);
    expect(edge.flags.filter((f) => f.kind !== 'no_closing_reading')).toEqual([]);
  });

  it('one spike of +5 MWh that returns to normal is ignored as a glitch', () => {
    const readings = aMonthOf(1_000_000).map((x, i) => (i === 300 ? { ...x, wh: x.wh + 5_000_000 } : x));
    const e = energyInSlots(readings, A_MONTH, ROOF);
    expect(e.totalWh).toBe(TRUE_MONTH_WH);
    expect(kinds(e)).toEqual(['glitch']);
    expect(implausible(e)).toBe(false);
  });

  it('0 → 9,999,999,999,999 Wh within a minute is not billed but held as implausible, naming the readings', () => {
    // The jump is believed (and held) once the counter stays there: six readings (rule 4 of billing/README.md, "The counter model").
    const after = [4, 8, 12, 16, 20, 24].map((h) => r(h, 9_999_999_999_999 + (h / 24) * 5000));
    const readings = [r(-1, 0), r(0, 0), { tMs: 60_000, wh: 9_999_999_999_999 }, ...after];
    const e = energyInSlots(readings, [day(0)], ROOF);
    expect(e.totalWh).toBe(5000);
    expect(implausible(e)).toBe(true);
    expect(e.flags).toContainEqual({
      kind: 'counter_jump',
      at: 60_000,
      fromWh: 0,
      toWh: 9_999_999_999_999,
      fromAt: 0,
    });
    expect(e.heldWh).toBe(9_999_999_999_999);
    expect(e.readSlotWh[0]).toBe(9_999_999_999_999 + 5000);
  });

  it('a single glitch reading 1,000,000 → 0 → 1,000,100 yields 100 Wh', () => {
    const e = energyInSlots([r(1, 1_000_000), r(2, 0), r(3, 1_000_100)], [day(0)], ROOF);
    expect(e.totalWh).toBe(100);
    expect(e.flags).toContainEqual({ kind: 'glitch', at: 3 * H, ignored: [r(2, 0)] });
  });

  it('an inverter replaced on the same serial is its own epoch, whether its counter starts higher or lower', () => {
    const at = 15 * 24 * H + 0.5 * H;
    const old = aMonthOf(1_000_000).filter((x) => x.tMs < at);
    const younger = (startWh: number) =>
      roofCounter(15 * 24 + 1, 30 * 24 + 48, startWh).map((x) => ({ ...x, wh: x.wh })) as CounterReading[];
    const replacement: Replacement = { atMs: at, initialWh: 40_000_000 };
    // Higher: recorded by an operator, with the new counter's value at installation.
    const higher = energyInSlots([...old, ...younger(40_000_000)], A_MONTH, { ...ROOF, replacements: [replacement] });
    expect(Math.abs(higher.totalWh - TRUE_MONTH_WH)).toBeLessThanOrEqual(1000); // the hour of the swap is unknown
    expect(higher.epochs.map((x) => x.start)).toEqual(['first', 'replacement']);
    // Lower, not recorded: a detected reset whose first value the rating could not have produced since.
    const lower = energyInSlots([...old, ...younger(300_000)], A_MONTH, ROOF);
    expect(Math.abs(lower.totalWh - TRUE_MONTH_WH)).toBeLessThanOrEqual(1000);
    expect(lower.flags).toContainEqual(expect.objectContaining({ kind: 'counter_reset', toWh: 300_000, countedWh: 0 }));
    // Higher and not recorded: held as implausible, never billed as 40 MWh.
    const unrecorded = energyInSlots([...old, ...younger(40_000_000)], A_MONTH, ROOF);
    expect(unrecorded.totalWh).toBeLessThanOrEqual(TRUE_MONTH_WH);
    expect(implausible(unrecorded)).toBe(true);
  });

  it('a counter silent from 5 days before the month to 5 days after is billed once its buffer arrives', () => {
    const full = roofCounter(-10 * 24, 40 * 24, 2_000_000);
    const before = full.filter((x) => x.tMs <= -5 * 24 * H || x.tMs >= (30 * 24 + 5 * 24) * H);
    const silent = energyInSlots(before, A_MONTH, ROOF);
    // Only the far readings: the month's energy is the linear share of the 40-day gap.
    expect(silent.totalWh).toBeGreaterThan(0);
    const flushed = energyInSlots(full, A_MONTH, ROOF);
    expect(flushed.totalWh).toBe(TRUE_MONTH_WH);
  });

  it('starting the month at 0, resetting on day 11 and then passing its earlier peak', () => {
    const readings = roofCounter(0, 30 * 24 + 24, 0).map((x) =>
      x.tMs >= 10 * 24 * H + 9 * H ? { ...x, wh: x.wh - (10 * 12_400 + 3000) + 250 } : x,
    );
    // The reading at 09:00 on day 11 is 250 Wh: the counter restarted from zero at about 08:45.
    expect(readings.find((x) => x.tMs === 10 * 24 * H + 9 * H)!.wh).toBe(250);
    const e = energyInSlots(readings, A_MONTH, ROOF);
    expect(e.totalWh).toBe(TRUE_MONTH_WH - 1000 + 250);
    expect(kinds(e)).toEqual(['counter_reset']);
  });
});

// Classes of counter histories an earlier pure model got wrong.
describe('energyInSlots: excursions, repeated drops and jitter', () => {
  it('a dip whose readings rise, then return to the trend, is a glitch judged against the reading before it', () => {
    const readings = [1_000_000, 1_001_000, 998_000, 999_000, 1_004_000, 1_005_000].map((wh, i) => r(i, wh));
    const e = energyInSlots(readings, [{ startMs: 0, endMs: 5 * H }], ROOF);
    expect(e.totalWh).toBe(5000);
    expect(kinds(e)).toEqual(['glitch']);
    expect(e.flags).toContainEqual({ kind: 'glitch', at: 4 * H, ignored: [r(2, 998_000), r(3, 999_000)] });
  });

  it('two spikes of different values in daylight, then a genuine night reset: glitch, reset, nothing held', () => {
    const M = 10 * 60_000;
    const readings: CounterReading[] = [];
    let counter = 2_000_000;
    let truth = 0;
    const resetAt = 20 * 24 * 6 + 6; // 01:00 on day 21
    for (let i = -6 * 24; i <= 30 * 24 * 6 + 6 * 24; i++) {
      const produced = i > 0 ? Math.floor(producedInHour(Math.floor(((i - 1) * M) / H)) / 6) : 0;
      counter += produced;
      if (i > 0 && i <= 30 * 24 * 6) truth += produced;
      if (i === resetAt) counter = 0;
      const at11h30 = i % (24 * 6) === 11 * 6 + 3 && Math.floor(i / (24 * 6)) === 4;
      const at11h40 = i % (24 * 6) === 11 * 6 + 4 && Math.floor(i / (24 * 6)) === 4;
      readings.push({ tMs: i * M, wh: at11h30 || at11h40 ? counter * 10 : counter });
    }
    const e = energyInSlots(readings, A_MONTH, ROOF);
    expect(implausible(e)).toBe(false);
    expect(e.heldWh).toBe(0);
    expect(kinds(e).sort()).toEqual(['counter_reset', 'glitch']);
    expect(e.totalWh).toBe(truth);
  });

  it('a counter that falls back every night by 15 % of the day is billed what it produced, each drop flagged', () => {
    const readings = roofCounter(-48, 30 * 24 + 48, 3_000_000).map((x) => {
      const dropsBefore = Math.max(0, Math.floor((x.tMs / H - 23) / 24) + 1 + 2);
      return { ...x, wh: x.wh - Math.round(dropsBefore * 0.15 * 12_400) };
    });
    const e = energyInSlots(readings, A_MONTH, ROOF);
    expect(e.totalWh).toBe(TRUE_MONTH_WH);
    expect(kinds(e).filter((k) => k !== 'counter_reset')).toEqual([]);
  });

  it("independent jitter of ±100 Wh per reading makes no reset and no hole, each month within its boundaries' jitter", () => {
    let seed = 19;
    const jitter = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.round(((seed / 2 ** 31) * 2 - 1) * 100);
    };
    const months = 60;
    const readings = roofCounter(-48, months * 30 * 24 + 48, 1_000_000).map((x) => ({ ...x, wh: x.wh + jitter() }));
    for (let m = 0; m < months; m++) {
      const days = Array.from({ length: 30 }, (_, i) => day(m * 30 + i));
      const around = readings.slice(m * 30 * 24, (m + 1) * 30 * 24 + 96);
      const e = energyInSlots(around, days, ROOF);
      expect(kinds(e)).toEqual([]);
      expect(Math.abs(e.totalWh - TRUE_MONTH_WH)).toBeLessThanOrEqual(200);
    }
  });
});

describe('producedBy: a step split at an instant', () => {
  it('in doubles gives the exact floor that BigInt gives', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 1, max: 200 * 86_400_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (wh, span, at) => {
          const p = { tMs: 1_700_000_000_000, wh: 0 };
          const q = { tMs: p.tMs + span, wh };
          const x = p.tMs + Math.floor(span * at);
          expect(producedBy(p, q, wh, x)).toBe(Number((BigInt(wh) * BigInt(x - p.tMs)) / BigInt(span)));
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe('energyInSlots: the capacity bound', () => {
  it('allows the noise once over an epoch, not at every step: an hour of a counter creeping past its rating is held', () => {
    // A reading a minute; for one hour the counter rises 166 Wh a minute on a 5 kW inverter (10 kWh
    // in the hour against 5.5 kW), each step within the rating's 92 Wh and 200 Wh of noise. The
    // day's epoch stays far under its capacity bound: it was paid 9,960 Wh without a flag.
    const readings = Array.from({ length: 24 * 60 + 1 }, (_, m) => ({
      tMs: m * 60_000,
      wh: 1000 + 166 * Math.min(Math.max(m - 600, 0), 60),
    }));
    const e = energyInSlots(readings, [day(0)], ROOF);
    expect(implausible(e)).toBe(true);
    expect(kinds(e)).toContain('counter_jump');
    expect(e.totalWh).toBeLessThan(60 * 166);
    expect(e.heldWh).toBeGreaterThan(0);
  });

  it("never bills an epoch more than the rating could deliver over its span, a reset's first reading included", () => {
    // A reset whose first reading counts the most the rating allows since the reading before it
    // (5,700 Wh in an hour), then a full hour's rise and its noise again: 200 Wh over the epoch's bound.
    const rest = [2, 3, 4, 5, 6].map((h) => r(h, 11_400 + (h - 2) * 5500));
    const e = energyInSlots([r(0, 1_000_000), r(1, 5700), ...rest], [day(0)], ROOF);
    const bound = 5000 * 6 * 1.1 + COUNTER_RULES.noiseWh;
    expect(e.flags).toContainEqual(expect.objectContaining({ kind: 'over_capacity', wh: 33_400, boundWh: bound }));
    expect(e.totalWh).toBe(bound);
    expect(e.heldWh).toBe(200);
  });
});

describe('energyInSlots: whatever the counter does (property)', () => {
  const HOURS = 96;
  it('bills the truth within the tolerance, never more, flags what it misses, and periods add up to the whole', () => {
    fc.assert(
      fc.property(counterHistory(HOURS), (h) => {
        const { readings, replacements, lostAtMostWh, unseenWh } = simulateCounter(h);
        const context = { ratedAcW: 5000, replacements };
        const whole = energyInSlots(readings, [{ startMs: 0, endMs: HOURS * H }], context);
        const truth = h.hourlyWh.reduce((a, b) => a + b, 0);
        // Jitter of ±50 Wh a reading: two readings disagree by at most 100 Wh, per epoch.
        const epochs = whole.epochs.length;
        // A reset to a value the rating could have produced since the reading before is taken for a
        // restart from zero and counted (flagged with `countedWh`): a drop to so small a value looks the same.
        const countedAtResets = whole.flags.reduce((s, f) => s + (f.kind === 'counter_reset' ? f.countedWh : 0), 0);
        expect(whole.totalWh).toBeLessThanOrEqual(truth + 100 * epochs + countedAtResets);
        expect(whole.totalWh).toBeGreaterThanOrEqual(truth - 100 * epochs - lostAtMostWh);
        // An under-count beyond the noise is flagged (glitch, reset or replacement), never silent.
        if (truth - whole.totalWh > 100 * epochs + unseenWh) expect(whole.flags.length).toBeGreaterThan(0);
        expect(whole.flags.filter((f) => (IMPLAUSIBLE_FLAGS as string[]).includes(f.kind))).toEqual([]);
        expect(whole.flags.filter((f) => (MISSING_DATA_FLAGS as string[]).includes(f.kind))).toEqual([]);
        // Two periods split anywhere add up to the whole, and so do the days of the reversed readings.
        const cut = h.cutHours * H;
        const first = energyInSlots(readings, [{ startMs: 0, endMs: cut }], context);
        const second = energyInSlots(readings, [{ startMs: cut, endMs: HOURS * H }], context);
        expect(first.totalWh + second.totalWh).toBe(whole.totalWh);
        const days = Array.from({ length: HOURS / 24 }, (_, i) => day(i));
        expect(energyInSlots([...readings].reverse(), days, context).totalWh).toBe(whole.totalWh);
      }),
      { numRuns: 10_000 },
    );
  });
});
