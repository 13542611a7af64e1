// Reads the lifetime counters billing needs from InfluxDB's raw telemetry without moving every
// reading. A period's energy only depends on the counter around the instants that cut it (its
// start and end, the midnights where a tariff changes, recorded inverter replacements), so:
//  - per inverter, the last reading before and the first at or after each cut, however far away
//    they are: searched within a few days first, then, only for the inverters of the registry not
//    found there, back to the lookaround limit (the raw retention) — so a device silent for a whole
//    month is still bounded by its readings on either side;
//  - per inverter and stretch of two days, the minimum and maximum readings: a counter that only
//    rose (within the noise) has no stretch whose minimum is below the previous stretch's maximum
//    (the readings before and after the period count as stretches too). Anything else (a reset, a
//    spike, a dip) marks the inverter `suspicious`, and `readAllAround` then reads all its readings.
//    Not seen: a step back that stays above the previous stretch's maximum and is overtaken within
//    the stretch (at most that step is counted twice); the capacity bound still applies.
//    (FIRST/LAST per stretch would see it but cost three times as much: measured.)
// Between the readings the core spreads energy linearly; that only matters where the price
// changes, which is exactly where the readings are exact.
// InfluxDB's cost per query grows faster than its number of series (measured: 3 s for 7,000
// inverters' month, 61 s for 70,000), so the fleet is read in partitions (by province tag), two at
// a time, each partition's queries concurrently.
import type { InfluxClient, InfluxSeries } from '../../lib/influx/client';
import { influxIdent, influxString } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';
import type { CounterReading } from './core/counter-energy';

const FIELD = '"energy_wh_total"';
const SOURCE = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;
const range = (a: number, b: number) => `time >= ${a}ms AND time < ${b}ms`;

/** Readings near a cut are nearly always within a few days of it; further only after an outage. */
const NEAR_MS = 3 * 86_400_000;
/** The stretch whose min/max are compared with the previous one's to find counters that did not only rise. */
const STRETCH = '2d';
/** Serials per query when searching far for the inverters that were silent near a cut. */
const FAR_SERIALS_PER_QUERY = 200;

export interface CounterReadings {
  readings: Map<string, CounterReading[]>;
  /** Inverters whose counter stepped back or spiked somewhere in the period: read them in full. */
  suspicious: Set<string>;
}

export interface ReadOptions {
  /** Instants inside the period where energy must be split exactly (price changes, replacements). */
  splitInstants?: readonly number[];
  /** Partitions of the fleet (InfluxDB `province` tag values) with the serials expected in each. */
  partitions: ReadonlyMap<string, readonly string[]>;
  /** How far outside the period to look for the readings that bound it. */
  lookaroundMs: number;
  /** A stretch whose min/max differ from its first/last by more than this is suspicious. */
  noiseWh: number;
}

const reading = (row: unknown[] | undefined, column = 1): CounterReading[] =>
  row && typeof row[0] === 'number' && typeof row[column] === 'number' ? [{ tMs: row[0], wh: row[column] }] : [];

async function bySerial(influx: InfluxClient, q: string): Promise<Map<string, unknown[][]>> {
  const [series] = await influx.query(q);
  const out = new Map<string, unknown[][]>();
  for (const s of (series ?? []) as InfluxSeries[]) if (s.tags?.serial) out.set(s.tags.serial, s.values);
  return out;
}

/** Counter readings per serial, enough to bill [fromMs, toMs) exactly at the period's cuts. */
export async function readCounterReadings(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  options: ReadOptions,
): Promise<CounterReadings> {
  const partitions = [...options.partitions];
  const out: CounterReadings = { readings: new Map(), suspicious: new Set() };
  const worker = async () => {
    for (let next = partitions.shift(); next !== undefined; next = partitions.shift()) {
      const part = await readPartition(influx, fromMs, toMs, options, next[0], next[1]);
      for (const [serial, list] of part.readings) out.readings.set(serial, list);
      for (const serial of part.suspicious) out.suspicious.add(serial);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

async function readPartition(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  options: ReadOptions,
  province: string,
  expected: readonly string[],
): Promise<CounterReadings> {
  const inProvince = `"province" = ${influxString(province)}`;
  const inner = [...new Set(options.splitInstants ?? [])].filter((t) => t > fromMs && t < toMs).sort((a, b) => a - b);
  const cuts = [fromMs, ...inner, toMs];
  // The last reading before each cut and the first at or after it, searched near the cut first.
  const edges = cuts.flatMap((t) => [
    { fn: 'LAST', near: [t - NEAR_MS, t], far: [t - options.lookaroundMs, t] },
    { fn: 'FIRST', near: [t, t + NEAR_MS], far: [t, t + options.lookaroundMs] },
  ]);
  const edgeQuery = (fn: string, [a, b]: number[], filter: string) =>
    `SELECT ${fn}(${FIELD}) FROM ${SOURCE} WHERE ${range(a!, b!)} AND ${filter} GROUP BY "serial"`;
  const [stretches, ...near] = await Promise.all([
    bySerial(
      influx,
      `SELECT MIN(${FIELD}), MAX(${FIELD}) FROM ${SOURCE} WHERE ${range(fromMs, toMs)} AND ${inProvince} GROUP BY "serial", time(${STRETCH}) fill(none)`,
    ),
    ...edges.map((e) => bySerial(influx, edgeQuery(e.fn, e.near, inProvince))),
  ]);
  // Far only for the expected inverters missing near a cut, named in the query (index lookups).
  const bounds = await Promise.all(
    edges.map(async (e, i) => {
      const found = near[i]!;
      const missing = expected.filter((s) => !found.has(s));
      for (let k = 0; k < missing.length; k += FAR_SERIALS_PER_QUERY) {
        const names = missing.slice(k, k + FAR_SERIALS_PER_QUERY).map((s) => `"serial" = ${influxString(s)}`);
        for (const [serial, rows] of await bySerial(influx, edgeQuery(e.fn, e.far, `(${names.join(' OR ')})`)))
          found.set(serial, rows);
      }
      return found;
    }),
  );

  const out: CounterReadings = { readings: new Map(), suspicious: new Set() };
  for (const serial of new Set(bounds.flatMap((b) => [...b.keys()])))
    out.readings.set(
      serial,
      bounds.flatMap((b) => reading(b.get(serial)?.[0])),
    );
  const opening = bounds[0]!;
  const closing = bounds[bounds.length - 1]!;
  for (const [serial, rows] of stretches) {
    let previousMax = reading(opening.get(serial)?.[0])[0]?.wh;
    const closingWh = reading(closing.get(serial)?.[0])[0]?.wh;
    for (const [min, max] of [
      ...rows.map((row) => [row[1] as number, row[2] as number]),
      ...(closingWh === undefined ? [] : [[closingWh, closingWh]]),
    ]) {
      if (previousMax !== undefined && min! < previousMax - options.noiseWh) out.suspicious.add(serial);
      previousMax = max!;
    }
  }
  return out;
}

/** How many readings beyond the edges `readAllAround` adds: enough to confirm or undo a glitch. */
const BEYOND = 6;

/**
 * Every reading of each serial in [fromMs, toMs], plus a few on either side (bounded by
 * lookaroundMs): for the inverters whose counter needs the whole story, not just its edges.
 */
export async function readAllAround(
  influx: InfluxClient,
  spans: ReadonlyMap<string, { fromMs: number; toMs: number }>,
  lookaroundMs: number,
): Promise<Map<string, CounterReading[]>> {
  const queue = [...spans];
  const out = new Map<string, CounterReading[]>();
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [serial, { fromMs, toMs }] = next;
      const where = `"serial" = ${influxString(serial)}`;
      const [inside, before, after] = await influx.query(
        [
          `SELECT ${FIELD} FROM ${SOURCE} WHERE ${where} AND time >= ${fromMs}ms AND time <= ${toMs}ms`,
          `SELECT ${FIELD} FROM ${SOURCE} WHERE ${where} AND ${range(fromMs - lookaroundMs, fromMs)} ORDER BY time DESC LIMIT ${BEYOND}`,
          `SELECT ${FIELD} FROM ${SOURCE} WHERE ${where} AND time > ${toMs}ms AND time < ${toMs + lookaroundMs}ms LIMIT ${BEYOND}`,
        ].join('; '),
      );
      out.set(
        serial,
        [inside, before, after].flatMap((series) => (series ?? []).flatMap((s) => s.values.flatMap((v) => reading(v)))),
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}
