// Reads the lifetime counters billing needs from InfluxDB's raw telemetry without moving every
// reading: the readings at each cut, each 2-day stretch's minimum and the hourly power integral,
// then every reading of a counter that did not simply rise. What this sees, what it cannot see and
// the bound on that are written once in billing/README.md, "Reading the counters".
// InfluxDB's cost per query grows faster than its number of series (measured: 3 s for 7,000
// inverters' month, 61 s for 70,000), so the fleet is read in partitions (by province tag), two at
// a time, each partition's queries concurrently.
import type { InfluxClient, InfluxSeries } from '../../lib/influx/client';
import { influxIdent, influxString } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';
import type { CounterReading } from './core/counter-energy';

const FIELD = '"energy_wh_total"';
const SOURCE = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;
/** The hourly rollup (lib/influx/layout.ts): per hour, the mean of the readings' AC power. */
const HOURLY = `${influxIdent(RETENTION.hourly)}.${influxIdent(MEASUREMENT.telemetry)}`;
const range = (a: number, b: number) => `time >= ${a}ms AND time < ${b}ms`;

/** Readings near a cut are nearly always within a few days of it; further only after an outage. */
const NEAR_MS = 3 * 86_400_000;
/** The stretch whose minimum is compared with what was read before it, to find counters that did not only rise. */
const STRETCH_MS = 2 * 86_400_000;
/** Serials per query when searching far for the inverters that were silent near a cut. */
const FAR_SERIALS_PER_QUERY = 200;

export interface CounterReadings {
  readings: Map<string, CounterReading[]>;
  /** Inverters whose counter stepped back or spiked somewhere in the period: read them in full. */
  suspicious: Set<string>;
  /**
   * Per inverter, its own AC power readings integrated over the period (Σ hourly mean × 1 h, from the
   * hourly rollup): what the counter should have risen by, to compare with what its edges say.
   */
  powerWh: Map<string, number>;
}

export interface ReadOptions {
  /** Instants inside the period where energy must be split exactly (price changes, replacements). */
  splitInstants?: readonly number[];
  /** Partitions of the fleet (InfluxDB `province` tag values) with the serials expected in each. */
  partitions: ReadonlyMap<string, readonly string[]>;
  /** How far outside the period to look for the readings that bound it. */
  lookaroundMs: number;
  /** A reading this much below an earlier one is still a counter that only rose (float jitter). */
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
  const out: CounterReadings = { readings: new Map(), suspicious: new Set(), powerWh: new Map() };
  const worker = async () => {
    for (let next = partitions.shift(); next !== undefined; next = partitions.shift()) {
      const part = await readPartition(influx, fromMs, toMs, options, next[0], next[1]);
      for (const [serial, list] of part.readings) out.readings.set(serial, list);
      for (const serial of part.suspicious) out.suspicious.add(serial);
      for (const [serial, wh] of part.powerWh) out.powerWh.set(serial, wh);
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
  const [stretches, power, ...near] = await Promise.all([
    bySerial(
      influx,
      `SELECT MIN(${FIELD}) FROM ${SOURCE} WHERE ${range(fromMs, toMs)} AND ${inProvince} GROUP BY "serial", time(${STRETCH_MS}ms) fill(none)`,
    ),
    bySerial(
      influx,
      `SELECT SUM("ac_power_w_mean") FROM ${HOURLY} WHERE ${range(fromMs, toMs)} AND ${inProvince} GROUP BY "serial"`,
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

  const out: CounterReadings = { readings: new Map(), suspicious: new Set(), powerWh: new Map() };
  for (const [serial, rows] of power) if (typeof rows[0]?.[1] === 'number') out.powerWh.set(serial, rows[0][1]);
  for (const serial of new Set(bounds.flatMap((b) => [...b.keys()])))
    out.readings.set(
      serial,
      bounds.flatMap((b) => reading(b.get(serial)?.[0])),
    );
  for (const [serial, readings] of out.readings) {
    const spans = [
      ...readings.map((r) => ({ fromMs: r.tMs, toMs: r.tMs + 1, minWh: r.wh })),
      // InfluxDB labels a stretch by its bucket's start, which may lie before the period's start.
      ...(stretches.get(serial) ?? []).map(([t, minWh]) => ({
        fromMs: Math.max(t as number, fromMs),
        toMs: Math.min((t as number) + STRETCH_MS, toMs),
        minWh: minWh as number,
      })),
    ];
    if (!roseThroughout(spans, options.noiseWh)) out.suspicious.add(serial);
  }
  return out;
}

/** The lowest reading within [fromMs, toMs) (one instant for an exact reading). */
export interface MinimumSpan {
  fromMs: number;
  toMs: number;
  minWh: number;
}

/**
 * Whether a counter can have only risen (within `noiseWh`) given the minimum of each span: no span's
 * minimum is below the minimum of a span that ended before it began.
 */
export function roseThroughout(spans: readonly MinimumSpan[], noiseWh: number): boolean {
  const byStart = [...spans].sort((a, b) => a.fromMs - b.fromMs);
  const byEnd = [...spans].sort((a, b) => a.toMs - b.toMs);
  let floor = Number.NEGATIVE_INFINITY;
  let ended = 0;
  for (const span of byStart) {
    while (ended < byEnd.length && byEnd[ended]!.toMs <= span.fromMs) floor = Math.max(floor, byEnd[ended++]!.minWh);
    if (span.minWh < floor - noiseWh) return false;
  }
  return true;
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
