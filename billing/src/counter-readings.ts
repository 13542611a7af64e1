// Reads the lifetime counters billing needs from InfluxDB's raw telemetry, without moving every
// reading: per inverter, the exact readings around both ends of the period (they split gaps at the
// boundaries) and the first/last/min/max of each day inside it. A day whose min or max shows the
// counter went backwards inside it is read in full, so resets are counted exactly.
import type { InfluxClient, InfluxSeries } from '../../lib/influx/client';
import { influxIdent } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';
import type { CounterReading } from './core/counter-energy';

const DAY_MS = 86_400_000;
// Day buckets start at 20:30 UTC, Tehran's midnight (Iran has kept +03:30 since 2022; for older
// months the buckets are an hour off in summer, which only moves a night's energy between days).
const TEHRAN_DAY_OFFSET = '1230m';

type Point = CounterReading;
const FIELD = '"energy_wh_total"';

function bySerial(series: InfluxSeries[], pick: (row: unknown[]) => Point | null): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const s of series) {
    const serial = s.tags?.serial;
    if (!serial) continue;
    const points = s.values.map(pick).filter((p): p is Point => p !== null);
    if (points.length > 0) out.set(serial, points);
  }
  return out;
}

const point = (t: unknown, wh: unknown): Point | null => (typeof t === 'number' && typeof wh === 'number' ? { tMs: t, wh } : null);

/** Counter readings per serial, enough to bill [fromMs, toMs) exactly; lookaroundMs bounds the search for readings outside it. */
export async function readCounterReadings(influx: InfluxClient, fromMs: number, toMs: number, lookaroundMs: number): Promise<Map<string, CounterReading[]>> {
  const from = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;
  const range = (a: number, b: number) => `time >= ${a}ms AND time < ${b}ms`;
  const [before, first, last, after, days] = await influx.query([
    `SELECT LAST(${FIELD}) FROM ${from} WHERE ${range(fromMs - lookaroundMs, fromMs)} GROUP BY "serial"`,
    `SELECT FIRST(${FIELD}) FROM ${from} WHERE ${range(fromMs, toMs)} GROUP BY "serial"`,
    `SELECT LAST(${FIELD}) FROM ${from} WHERE ${range(fromMs, toMs)} GROUP BY "serial"`,
    `SELECT FIRST(${FIELD}) FROM ${from} WHERE ${range(toMs, toMs + lookaroundMs)} GROUP BY "serial"`,
    `SELECT FIRST(${FIELD}), LAST(${FIELD}), MIN(${FIELD}), MAX(${FIELD}) FROM ${from} WHERE ${range(fromMs, toMs)} GROUP BY time(1d, ${TEHRAN_DAY_OFFSET}), "serial" fill(none)`,
  ].join(';'));
  const exact = (series: InfluxSeries[] | undefined) => bySerial(series ?? [], (row) => point(row[0], row[1]));
  const opening = exact(before);
  const firstIn = exact(first);
  const lastIn = exact(last);
  const closing = exact(after);

  const readings = new Map<string, CounterReading[]>();
  const resetDays: { serial: string; startMs: number }[] = [];
  for (const s of days ?? []) {
    const serial = s.tags?.serial;
    if (!serial) continue;
    const list: CounterReading[] = [];
    for (const [t, firstWh, lastWh, minWh, maxWh] of s.values as [number, number, number, number, number][]) {
      if (minWh < firstWh || maxWh > lastWh) { resetDays.push({ serial, startMs: t }); continue; }
      // Inside the period only the day matters, not the minute: first at the bucket's start, last at its end.
      list.push({ tMs: Math.max(t, fromMs), wh: firstWh }, { tMs: Math.min(t + DAY_MS, toMs) - 1, wh: lastWh });
    }
    readings.set(serial, list);
  }
  for (const { serial, startMs } of resetDays) {
    const rows = await influx.rows(`SELECT ${FIELD} FROM ${from} WHERE "serial" = '${serial.replace(/'/g, "\\'")}' AND ${range(Math.max(startMs, fromMs), Math.min(startMs + DAY_MS, toMs))}`);
    readings.get(serial)!.push(...rows.map((r) => point(r.time, r.energy_wh_total)).filter((p): p is Point => p !== null));
  }
  // The exact first and last readings of the period replace the day-resolution ones at its ends.
  for (const [serial, list] of readings) {
    const firstPoint = firstIn.get(serial)?.[0];
    const lastPoint = lastIn.get(serial)?.[0];
    const inner = list.filter((p) => (!firstPoint || p.tMs > firstPoint.tMs) && (!lastPoint || p.tMs < lastPoint.tMs));
    readings.set(serial, [...(opening.get(serial) ?? []), ...(firstPoint ? [firstPoint] : []), ...inner, ...(lastPoint ? [lastPoint] : []), ...(closing.get(serial) ?? [])]);
  }
  // Silent all period long, but seen before and after it: the gap's readings alone bill it.
  for (const serial of new Set([...opening.keys(), ...closing.keys()])) {
    if (!readings.has(serial)) readings.set(serial, [...(opening.get(serial) ?? []), ...(closing.get(serial) ?? [])]);
  }
  return readings;
}
