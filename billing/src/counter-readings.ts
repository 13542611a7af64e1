// Reads the lifetime counters billing needs from InfluxDB's raw telemetry without moving every
// reading. A month's energy only depends on the counter around the instants that split it: the
// month's start and end, and the midnights where a tariff changes. So, per inverter:
//  - the exact readings on both sides of each such instant (they split a gap that spans it);
//  - the month's minimum and maximum: an epoch-free month has min = first and max = last; an
//    inverter whose counter went backwards is read in full, so resets are counted exactly.
// Between those readings the core spreads energy linearly over the days; that only matters where
// the price changes, which is exactly where the readings are exact.
// InfluxDB's cost per query grows faster than its number of series (measured: 3 s for 7,000
// inverters' month, 61 s for 70,000), so the fleet is read in partitions (by province tag), two at
// a time, each partition's queries concurrently.
import type { InfluxClient, InfluxSeries } from '../../lib/influx/client';
import { influxIdent } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';
import type { CounterReading } from './core/counter-energy';

const FIELD = '"energy_wh_total"';
const SOURCE = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;
const range = (a: number, b: number) => `time >= ${a}ms AND time < ${b}ms`;
const escapeTagValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/** First column after time, per serial: [time, value, ...] rows. */
function perSerial(series: InfluxSeries[] | undefined): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const s of series ?? []) if (s.tags?.serial && s.values[0]) out.set(s.tags.serial, s.values[0]);
  return out;
}

async function one(influx: InfluxClient, q: string): Promise<Map<string, unknown[]>> {
  const [series] = await influx.query(q);
  return perSerial(series);
}

const exactReading = (row: unknown[] | undefined): CounterReading[] =>
  row && typeof row[0] === 'number' && typeof row[1] === 'number' ? [{ tMs: row[0], wh: row[1] }] : [];

/** Readings near a cut are nearly always within a few days of it; further only after an outage. */
const NEAR_MS = 3 * 86_400_000;

/**
 * Counter readings per serial, enough to bill [fromMs, toMs) exactly, with energy priced
 * differently on either side of each of `splitInstants`; lookaroundMs bounds the search outside.
 */
export async function readCounterReadings(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  lookaroundMs: number,
  options: { splitInstants?: readonly number[]; provinces?: readonly string[] } = {},
): Promise<Map<string, CounterReading[]>> {
  const partitions = options.provinces ? [...options.provinces] : [null];
  const readings = new Map<string, CounterReading[]>();
  const worker = async () => {
    for (let province = partitions.shift(); province !== undefined; province = partitions.shift()) {
      for (const [serial, list] of await readPartition(
        influx,
        fromMs,
        toMs,
        lookaroundMs,
        options.splitInstants ?? [],
        province,
      ))
        readings.set(serial, list);
    }
  };
  await Promise.all([worker(), worker()]);
  return readings;
}

async function readPartition(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  lookaroundMs: number,
  splitInstants: readonly number[],
  province: string | null,
): Promise<Map<string, CounterReading[]>> {
  const where = (a: number, b: number) =>
    `${range(a, b)}${province === null ? '' : ` AND "province" = '${escapeTagValue(province)}'`}`;
  const inner = [...new Set(splitInstants)].filter((t) => t > fromMs && t < toMs).sort((a, b) => a - b);
  const cuts = [fromMs, ...inner, toMs];
  // The last reading before each cut and the first at or after it: searched near the cut first, and
  // over the whole allowed range only if an inverter that reported this month was not found near it.
  const edges = cuts.flatMap((t, i) => [
    {
      fn: 'LAST',
      near: [Math.max(t - NEAR_MS, i === 0 ? -Infinity : fromMs), t],
      far: [i === 0 ? t - lookaroundMs : fromMs, t],
    },
    {
      fn: 'FIRST',
      near: [t, Math.min(t + NEAR_MS, i === cuts.length - 1 ? Infinity : toMs)],
      far: [t, i === cuts.length - 1 ? t + lookaroundMs : toMs],
    },
  ]);
  const edgeQuery = (fn: string, [a, b]: number[]) =>
    `SELECT ${fn}(${FIELD}) FROM ${SOURCE} WHERE ${where(a!, b!)} GROUP BY "serial"`;
  const [extremes, ...near] = await Promise.all([
    one(influx, `SELECT MIN(${FIELD}), MAX(${FIELD}) FROM ${SOURCE} WHERE ${where(fromMs, toMs)} GROUP BY "serial"`),
    ...edges.map((e) => one(influx, edgeQuery(e.fn, e.near))),
  ]);
  const reporting = [...extremes.keys()];
  const bounds = await Promise.all(
    edges.map((e, i) => (reporting.every((s) => near[i]!.has(s)) ? near[i]! : one(influx, edgeQuery(e.fn, e.far)))),
  );

  const serials = new Set(bounds.flatMap((b) => [...b.keys()]));
  const readings = new Map<string, CounterReading[]>();
  const firstInMonth = bounds[1]!;
  const lastInMonth = bounds[bounds.length - 2]!;
  for (const serial of serials) {
    readings.set(
      serial,
      bounds.flatMap((b) => exactReading(b.get(serial))),
    );
    const [, min, max] = (extremes.get(serial) ?? []) as [unknown, number?, number?];
    const first = firstInMonth.get(serial)?.[1];
    const last = lastInMonth.get(serial)?.[1];
    const wentBackwards = min !== undefined && max !== undefined && (min < (first as number) || max > (last as number));
    if (wentBackwards) {
      const rows = await influx.rows(
        `SELECT ${FIELD} FROM ${SOURCE} WHERE "serial" = '${escapeTagValue(serial)}' AND ${range(fromMs, toMs)}`,
      );
      readings.get(serial)!.push(...rows.flatMap((r) => exactReading([r.time, r.energy_wh_total])));
    }
  }
  return readings;
}
