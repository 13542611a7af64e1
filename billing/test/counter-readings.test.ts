// The counter reader against the real InfluxDB: it reads only the edges of a month for a counter
// that simply rose, but finds a reset hidden between them, and bounds a silent inverter by its
// readings however far away they are.
import { beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase } from '../../testing/services';
import { monthBounds, monthDays } from '../src/core/solar-hijri';
import { readCounterEnergy } from '../src/installation-energy';

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
      // Row 7 of issue 10: starts the month at 0, resets on day 11 (to 250 Wh), then passes its earlier peak.
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
