import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { energyInSlots, type CounterReading } from './counter-energy';

const H = 3_600_000;
const day = (i: number) => ({ startMs: i * 24 * H, endMs: (i + 1) * 24 * H });
const r = (hours: number, wh: number): CounterReading => ({ tMs: hours * H, wh });

describe('energyInSlots', () => {
  it('is the increase of the counter, whatever the order and the duplicates', () => {
    const readings = [r(0, 1000), r(6, 1500.4), r(12, 4000), r(18, 4200), r(24, 4200)];
    const shuffled = [readings[3]!, readings[0]!, readings[4]!, readings[1]!, readings[2]!, readings[2]!, readings[0]!];
    const e = energyInSlots(shuffled, [day(0)]);
    expect(e.totalWh).toBe(3200);
    expect(e.flags).toEqual([]);
    expect(e.epochs).toEqual([
      { opening: { tMs: 0, wh: 1000 }, closing: { tMs: 24 * H, wh: 4200 }, afterReset: false, wh: 3200 },
    ]);
    expect(energyInSlots(readings, [day(0)])).toEqual(e);
  });

  it('gives a reading at a boundary to the slot it closes', () => {
    const e = energyInSlots([r(20, 0), r(24, 400), r(28, 900)], [day(0), day(1)]);
    expect(e.slotWh).toEqual([400, 500]);
  });

  it('splits a gap across a boundary linearly in time, in whole Wh that add up to the gap', () => {
    // Offline from 18:00 to 09:00 the next day (15 h): 1,000 Wh; 6 h of it lie before midnight.
    const e = energyInSlots([r(12, 0), r(18, 500), r(33, 1500), r(40, 1501)], [day(0), day(1)]);
    expect(e.slotWh).toEqual([500 + 400, 600 + 1]);
    // 1,001 Wh over 3 equal parts: floor at each boundary, the remainder stays with the later slot.
    const thirds = energyInSlots([r(0, 0), r(72, 1001)], [day(0), day(1), day(2)]);
    expect(thirds.slotWh).toEqual([333, 334, 334]);
  });

  it('starts a new epoch when the counter goes backwards, never yielding negative energy', () => {
    const e = energyInSlots([r(0, 5000), r(6, 6000), r(12, 120), r(18, 700), r(24, 900)], [day(0)]);
    expect(e.totalWh).toBe(1000 + 120 + 780);
    expect(e.flags).toEqual([{ kind: 'counter_reset', at: 12 * H, fromWh: 6000, toWh: 120 }]);
    expect(e.epochs.map((x) => [x.afterReset, x.wh])).toEqual([
      [false, 1000],
      [true, 900],
    ]);
  });

  it('flags what it does not know instead of inventing energy', () => {
    expect(energyInSlots([], [day(0)])).toMatchObject({ totalWh: 0, flags: [{ kind: 'no_readings' }] });
    const late = energyInSlots([r(6, 100), r(18, 900)], [day(0)]);
    expect(late.totalWh).toBe(800);
    expect(late.flags).toEqual([
      { kind: 'no_opening_reading', firstReadingAt: 6 * H },
      { kind: 'no_closing_reading', lastReadingAt: 18 * H },
    ]);
  });

  it('ignores readings far outside the slots except to split the gaps that reach in', () => {
    const e = energyInSlots([r(-48, 0), r(-24, 10), r(12, 20), r(48, 30), r(72, 40)], [day(0)]);
    expect(e.totalWh).toBe(10 - Math.floor((10 * 24) / 36) + Math.floor((10 * 12) / 36));
  });

  const monotonicSeries = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 6 * 60 }), fc.integer({ min: 0, max: 5000 }), fc.boolean()), {
      minLength: 1,
      maxLength: 200,
    })
    .map((steps) => {
      let t = -12 * 60;
      let wh = 1_000_000;
      const readings: CounterReading[] = [{ tMs: t * 60_000, wh }];
      for (const [dt, inc, reset] of steps) {
        t += dt;
        wh = reset && inc % 7 === 0 ? inc : wh + inc;
        readings.push({ tMs: t * 60_000, wh });
      }
      return readings;
    });

  it('splits across any slots without losing or creating a Wh, and ignores order and duplicates', () => {
    fc.assert(
      fc.property(monotonicSeries, fc.integer({ min: 1, max: 48 }), (readings, hours) => {
        const first = readings[0]!.tMs;
        const last = readings[readings.length - 1]!.tMs;
        const whole = energyInSlots(readings, [{ startMs: first, endMs: last + 1 }]);
        const slots = [];
        for (let t = first; t <= last; t += hours * H)
          slots.push({ startMs: t, endMs: Math.min(t + hours * H, last + 1) });
        const split = energyInSlots([...readings].reverse().concat(readings.slice(0, 3)), slots);
        expect(split.totalWh).toBe(whole.totalWh);
        expect(split.slotWh.every((wh) => wh >= 0 && Number.isInteger(wh))).toBe(true);
        expect(split.epochs.reduce((s, x) => s + x.wh, 0)).toBe(split.totalWh);
      }),
    );
  });
});
