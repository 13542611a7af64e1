// The counter reader against the real InfluxDB: it reads only the edges of a month for a counter
// that simply rose, but finds a reset hidden between them, and bounds a silent inverter by its
// readings however far away they are.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase } from '../../testing/services';
import {
  type CounterReading,
  energyInSlots,
  IMPLAUSIBLE_FLAGS,
  MISSING_DATA_FLAGS,
  type Replacement,
} from '../src/core/counter-energy';
import { monthBounds, monthDays } from '../../lib/program/solar-hijri';
import { readCounterEnergy } from '../src/installation-energy';
import { counterHistory, simulateCounter } from './counter-histories';

const MONTH = '1405-06';
const { startMs, endMs } = monthBounds(MONTH);
const DAYS = monthDays(MONTH);
const H = 3_600_000;
const DAY = 24 * H;
let influx: InfluxClient;

/** 500 Wh an hour over [fromMs, toMs], the counter given by `counter(t, producedSoFar)`. */
function lines(serial: string, fromMs: number, toMs: number, counter: (t: number, produced: number) => number) {
  const out = [];
  for (let t = fromMs, produced = 0; t <= toMs; t += H, produced += 500)
    out.push(
      `telemetry,installation=X,province=yazd,serial=${serial} energy_wh_total=${counter(t, produced)} ${t}000000`,
    );
  return out;
}

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase('billing_counter_readings_test'));
  const resetAt = startMs + 10 * DAY + 9 * H;
  await influx.write(
    [
      // Starts the month at 0, resets on day 11 (to 250 Wh), then passes its earlier peak.
      ...lines('RESET', startMs, endMs + DAY, (t, produced) =>
        t < resetAt ? produced : produced - ((resetAt - startMs) / H) * 500 + 250,
      ),
      // Silent from 5 days before the month to 5 days after: only readings further out.
      ...lines('SILENT', startMs - 10 * DAY, startMs - 5 * DAY, (_t, produced) => 5_000_000 + produced),
      ...lines('SILENT', endMs + 5 * DAY, endMs + 6 * DAY, (t) => 5_000_000 + ((t - (startMs - 10 * DAY)) / H) * 500),
      // A counter that simply rose: read at its edges only.
      ...lines('PLAIN', startMs - DAY, endMs + DAY, (_t, produced) => 1_000_000 + produced),
    ].join('\n'),
  );
});

describe('readCounterEnergy against InfluxDB', () => {
  it('finds a reset between the edges, bounds a silent inverter by far readings, and reads a plain counter exactly', async () => {
    const energy = await readCounterEnergy(
      { influx, config: { lookaroundDays: 400 }, log: createLogger('billing-test', 'silent') },
      ['RESET', 'SILENT', 'PLAIN'].map((serial) => ({ serial, ratedAcW: 5000, provinceCode: 'yazd' })),
      DAYS,
    );
    const hours = (endMs - startMs) / H;
    const reset = energy.get('RESET')!;
    expect(reset.flags.map((f) => f.kind)).toEqual(['counter_reset']);
    expect(reset.totalWh).toBe(hours * 500 - 500 + 250); // the hour of the reset: 250 Wh on the new counter
    const silent = energy.get('SILENT')!;
    expect(silent.flags).toEqual([]);
    expect(silent.totalWh).toBe(hours * 500);
    expect(energy.get('PLAIN')!.totalWh).toBe(hours * 500);
  });
});

// The reader gives exactly what the counter model gives on every reading.
const deps = () => ({ influx, config: { lookaroundDays: 400 }, log: createLogger('billing-test', 'silent') });
const asLines = (serial: string, readings: readonly CounterReading[]) =>
  readings.map(
    (x) => `telemetry,installation=X,province=fars,serial=${serial} energy_wh_total=${x.wh} ${Math.round(x.tMs)}000000`,
  );
/** 5 kW, hourly: 1,000 Wh an hour from 06:00 to 18:00 Tehran time (02:30–14:30 UTC), 400 Wh until 19:00. */
function roof(fromMs: number, toMs: number, startWh: number, ratedScale = 1): CounterReading[] {
  const out: CounterReading[] = [];
  for (let t = fromMs, wh = startWh; t <= toMs; t += H) {
    out.push({ tMs: t, wh });
    const hour = Math.floor(((t - startMs) % DAY) / H); // hours after Tehran midnight
    wh += (hour >= 6 && hour < 18 ? 1000 : hour === 18 ? 400 : 0) * ratedScale;
  }
  return out;
}
const DAY_WH = 12_400;

async function readerAndModel(serial: string, readings: CounterReading[], ratedAcW = 5000) {
  await influx.write(asLines(serial, readings).join('\n'));
  const read = (await readCounterEnergy(deps(), [{ serial, ratedAcW, provinceCode: 'fars' }], DAYS)).get(serial)!;
  return { read, model: energyInSlots(readings, DAYS, { ratedAcW }) };
}

describe('readCounterEnergy equals the counter model on all readings', () => {
  it('readings before the month low and the closing one high by 100 Wh: the reader equals the model', async () => {
    const readings = roof(startMs - 3 * DAY, endMs + 3 * DAY, 6_000_000).map((x) => {
      if (x.tMs === startMs - 2 * H) return { ...x, wh: x.wh + 100 };
      if (x.tMs === startMs - H) return { ...x, wh: x.wh - 100 };
      if (x.tMs === endMs - H) return { ...x, wh: x.wh + 100 };
      return x;
    });
    const { read, model } = await readerAndModel('EDGES', readings);
    expect(read.slotWh).toEqual(model.slotWh);
    expect(Math.abs(read.totalWh - ((endMs - startMs) / DAY) * DAY_WH)).toBeLessThanOrEqual(200);
  });

  it('a 100 kW inverter with 2-reading dips whose readings rise near the month end is never billed above the truth', async () => {
    const truth = ((endMs - startMs) / DAY) * DAY_WH * 20;
    const clean = roof(startMs - 3 * DAY, endMs + 3 * DAY, 90_000_000, 20);
    const dipAt = clean.findIndex((x) => x.tMs === endMs - 5 * H); // 19:00, the counter flat since 18:00+
    const readings = clean.map((x, i) =>
      i === dipAt ? { ...x, wh: x.wh - 206_845 } : i === dipAt + 1 ? { ...x, wh: x.wh - 206_845 + 50_000 } : x,
    );
    const { read, model } = await readerAndModel('DIP100', readings, 100_000);
    expect(read.totalWh).toBeLessThanOrEqual(truth + 100);
    expect(read.totalWh).toBe(truth);
    expect(read.totalWh).toBe(model.totalWh);
  });

  it('equals the model on random histories (dips, spikes, drops, resets, replacements, silences, jitter)', async () => {
    const HOURS = 96;
    const base = startMs + 5 * DAY;
    const slots = [
      { startMs: base + 30 * H, endMs: base + 48 * H },
      { startMs: base + 48 * H, endMs: base + 70 * H },
    ];
    const histories = fc.sample(counterHistory(HOURS), { numRuns: 150, seed: 19 });
    const cases = histories.map((h, i) => {
      const { readings, replacements } = simulateCounter(h);
      const at = (t: number) => base + t;
      return {
        serial: `RND-${i}`,
        readings: readings.map((x) => ({ tMs: at(x.tMs), wh: x.wh })),
        replacements: replacements.map((x): Replacement => ({ atMs: at(x.atMs), initialWh: x.initialWh })),
      };
    });
    await influx.write(cases.flatMap((c) => asLines(c.serial, c.readings)).join('\n'));
    const read = await readCounterEnergy(
      deps(),
      cases.map((c) => ({ serial: c.serial, ratedAcW: 5000, provinceCode: 'fars' })),
      slots,
      { replacements: new Map(cases.map((c) => [c.serial, c.replacements])) },
    );
    // The flags that hold a month or mark it incomplete must agree too (the others describe readings
    // outside the period the reader need not read, or a glitch between the cuts that changes nothing billed).
    const weighty = (flags: { kind: string }[]) =>
      flags.map((f) => f.kind).filter((k) => [...IMPLAUSIBLE_FLAGS, ...MISSING_DATA_FLAGS].includes(k as never));
    const diffs = cases.flatMap((c) => {
      const model = energyInSlots(c.readings, slots, { ratedAcW: 5000, replacements: c.replacements });
      const got = read.get(c.serial)!;
      const a = { slotWh: got.slotWh, flags: weighty(got.flags) };
      const b = { slotWh: model.slotWh, flags: weighty(model.flags) };
      return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ serial: c.serial, reader: a, model: b }];
    });
    expect(diffs).toEqual([]);
  });
});

describe('drops the readings at the cuts cannot see', () => {
  it('a counter falling back every night at 23:00 by 15 % of the day: its own power readings give it away, the reader equals the model', async () => {
    // Every 15 minutes: 1 kW from 06:00 to 18:00 Tehran time, 400 W until 19:00, the counter rising
    // with it, and falling back 1,860 Wh (15 % of the day's 12,400 Wh) at 23:00 every night.
    const Q = H / 4;
    const from = startMs - 3 * DAY;
    const to = endMs + 3 * DAY;
    const nightly = (withPower: boolean, serial: string) => {
      const readings: CounterReading[] = [];
      const lines: string[] = [];
      for (let t = from, wh = 4_000_000; t <= to; t += Q) {
        const hour = ((((t - startMs) % DAY) + DAY) % DAY) / H; // hours after Tehran midnight
        const watts = hour >= 6 && hour < 18 ? 1000 : hour >= 18 && hour < 19 ? 400 : 0;
        if (hour === 23) wh -= 1_860;
        readings.push({ tMs: t, wh });
        lines.push(
          `telemetry,installation=X,province=kerman,serial=${serial} energy_wh_total=${wh}${withPower ? `,ac_power_w=${watts}` : ''} ${t}000000`,
        );
        wh += (watts * Q) / H;
      }
      return { readings, lines };
    };
    const seen = nightly(true, 'NIGHTLY');
    const blind = nightly(false, 'NIGHTLY-NO-POWER');
    await influx.write([...seen.lines, ...blind.lines].join('\n'));
    await rebuildRollups(influx, from, to + H);
    const read = await readCounterEnergy(
      deps(),
      ['NIGHTLY', 'NIGHTLY-NO-POWER'].map((serial) => ({ serial, ratedAcW: 5000, provinceCode: 'kerman' })),
      DAYS,
    );
    const produced = DAYS.length * DAY_WH;
    const model = energyInSlots(seen.readings, DAYS, { ratedAcW: 5000 });
    expect(model.totalWh).toBe(produced);
    expect(read.get('NIGHTLY')!.slotWh).toEqual(model.slotWh);
    // Without power readings (or the hourly rollup) nothing shows them: the stated blind spot, each
    // drop lost, no more (billing/README.md, "Reading the counters").
    expect(read.get('NIGHTLY-NO-POWER')!.totalWh).toBe(produced - DAYS.length * 1_860);
  });
});
