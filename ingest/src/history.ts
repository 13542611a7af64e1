// A device's past is immutable once accepted. A reading that is not newer than everything this
// worker knows of its device (a datalogger's flushed buffer, a redelivery, a device re-publishing
// old timestamps, or a device's first reading after a restart) is judged against the readings
// already stored around it:
// - the same instant already stored with the same values: a duplicate, harmless, not written again;
// - the same instant with other values: a conflict, rejected with both values as evidence; the
//   stored reading stays (InfluxDB would otherwise keep the last write);
// - otherwise it fills a gap, and only within physics from the stored readings on both sides: the
//   counter between its neighbours (a drop between them is a reset: one side must fit) and rising
//   no faster than the rating allows from every earlier one and to every later one, the noise
//   allowed once over each side as at the door (`bindingReading`), so late readings cannot climb
//   past the rating in noise-sized steps.
// "Stored" is InfluxDB (read as the reader) plus what this worker has journaled but not yet shipped
// (kept in memory until the journal's lag has passed it). Workers of one share group ship within
// a second, so a conflict must reach two workers within that second to slip through.
import type { InfluxClient } from '../../lib/influx/client';
import { influxString } from '../../lib/influx/client';
import { MEASUREMENT } from '../../lib/influx/layout';
import { bindingReading, COUNTER_LIMITS, type CounterPoint, maxCounterRiseWh } from '../../lib/program/counter-limits';
import type { Fields } from './line-protocol';

export interface KnownReading {
  tMs: number;
  wh: number;
  /** The reading's fields in one canonical text: equal keys are equal readings. */
  key: string;
}

/** The fields a reading is stored with, as one comparable text (what InfluxDB gives back reads the same). */
export function fieldsKey(fields: Fields): string {
  const parts: string[] = [];
  for (const name of Object.keys(fields).sort()) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    parts.push(`${name}=${typeof value === 'object' ? value.integer : JSON.stringify(value)}`);
  }
  return parts.join(',');
}

const DAY_MS = 86_400_000;
/** Stored neighbours further than this from a late reading do not bound it. */
const NEIGHBOUR_WINDOW_MS = 31 * DAY_MS;
/** Late readings closer than this to each other are looked up with one range query. */
const CLUSTER_SPAN_MS = 3_600_000;
const FIELD_COLUMNS = [
  'energy_wh_total',
  'ac_power_w',
  'state',
  'dc_voltage_v',
  'dc_current_a',
  'ac_voltage_v',
  'ac_frequency_hz',
  'temperature_c',
  'seq',
  'events',
] as const;

/**
 * The device's stored readings around `times`: every reading at or between the instants of each
 * cluster of nearby times, and the nearest stored reading before and after each cluster (within
 * NEIGHBOUR_WINDOW_MS). One InfluxDB request, three statements per cluster.
 */
export async function storedAround(influx: InfluxClient, serial: string, times: number[]): Promise<KnownReading[]> {
  const sorted = [...times].sort((a, b) => a - b);
  const clusters: [number, number][] = [];
  for (const t of sorted) {
    const last = clusters[clusters.length - 1];
    if (last && t - last[0] <= CLUSTER_SPAN_MS) last[1] = t;
    else clusters.push([t, t]);
  }
  const where = `"serial" = ${influxString(serial)}`;
  const from = `"${MEASUREMENT.telemetry}"`;
  const statements = clusters.flatMap(([a, b]) => [
    `SELECT ${FIELD_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM ${from} WHERE ${where} AND time >= ${a}ms AND time <= ${b}ms`,
    `SELECT last("energy_wh_total") AS "energy_wh_total" FROM ${from} WHERE ${where} AND time < ${a}ms AND time >= ${a - NEIGHBOUR_WINDOW_MS}ms`,
    `SELECT first("energy_wh_total") AS "energy_wh_total" FROM ${from} WHERE ${where} AND time > ${b}ms AND time <= ${b + NEIGHBOUR_WINDOW_MS}ms`,
  ]);
  const results = await influx.query(statements.join('; '), { method: 'POST' });
  const out: KnownReading[] = [];
  for (const series of results.flat()) {
    for (const values of series.values) {
      const fields: Fields = {};
      series.columns.forEach((column, i) => {
        const v = values[i];
        if (column !== 'time' && v !== null && v !== undefined) fields[column] = v as string | number | boolean;
      });
      // Neighbours carry only their counter: their key is never compared (they are not at a late reading's instant).
      out.push({ tMs: Number(values[0]), wh: Number(fields.energy_wh_total), key: fieldsKey(fields) });
    }
  }
  return out;
}

/** Each device's newest stored reading since `sinceMs` (seeds the counter guard at start-up). */
export async function newestStored(
  influx: InfluxClient,
  sinceMs: number,
): Promise<{ newest: Map<string, { tMs: number; wh: number }>; sinceMs: number }> {
  const [series = []] = await influx.query(
    `SELECT last("energy_wh_total") FROM "${MEASUREMENT.telemetry}" WHERE time > ${sinceMs}ms GROUP BY "serial"`,
  );
  const out = new Map<string, { tMs: number; wh: number }>();
  for (const s of series) {
    const [t, wh] = s.values[0] ?? [];
    if (s.tags?.serial && t !== undefined) out.set(s.tags.serial, { tMs: Number(t), wh: Number(wh) });
  }
  return { newest: out, sinceMs };
}

/**
 * What this worker journaled and InfluxDB may not have yet, per serial: kept until the journal's
 * lag (age of its oldest unshipped data) has passed it, so a lookup sees InfluxDB ∪ this.
 */
export class RecentReadings {
  private readonly bySerial = new Map<string, (KnownReading & { atMs: number })[]>();

  constructor(private readonly maxPerSerial = 10_000) {}

  add(serial: string, readings: KnownReading[], atMs: number): void {
    if (readings.length === 0) return;
    const list = this.bySerial.get(serial) ?? [];
    this.bySerial.set(serial, list);
    for (const r of readings) list.push({ ...r, atMs });
    if (list.length > this.maxPerSerial) list.splice(0, list.length - this.maxPerSerial);
  }

  of(serial: string): KnownReading[] {
    return this.bySerial.get(serial) ?? [];
  }

  /** Forgets what was journaled before `shippedBeforeMs` (InfluxDB has it). */
  forgetShipped(shippedBeforeMs: number): void {
    for (const [serial, list] of this.bySerial) {
      let keep = 0;
      while (keep < list.length && list[keep]!.atMs < shippedBeforeMs) keep += 1;
      if (keep === list.length) this.bySerial.delete(serial);
      else if (keep > 0) list.splice(0, keep);
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.bySerial.values()) n += list.length;
    return n;
  }
}

/** The readings known around one instant: at it, the nearest before and after, and those that bound its counter. */
export class KnownTimeline {
  private readonly sorted: KnownReading[];
  /**
   * `binding`'s folds, kept while still true so that a buffer of late readings costs one step each
   * (in either time order): fromFold[k] is the fold of sorted[0..k], valid below fromValid;
   * toFold[k] that of sorted[k..], mirrored, valid from toValidFrom on. For one rating and replacement.
   */
  private fromFold: KnownReading[] = [];
  private fromValid = 0;
  private toFold: Mirrored[];
  private toValidFrom: number;
  private foldsFor = '';

  constructor(readings: KnownReading[]) {
    // Stored and journaled copies of one instant may both be present; either will do.
    this.sorted = [...readings].sort((a, b) => a.tMs - b.tMs);
    this.toFold = new Array(this.sorted.length);
    this.toValidFrom = this.sorted.length;
  }

  private firstAtOrAfter(tMs: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.tMs < tMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  around(tMs: number): { at?: KnownReading; before?: KnownReading; after?: KnownReading } {
    const i = this.firstAtOrAfter(tMs);
    const at = this.sorted[i]?.tMs === tMs ? this.sorted[i] : undefined;
    let j = i;
    while (j < this.sorted.length && this.sorted[j]!.tMs === tMs) j += 1;
    return { at, before: this.sorted[i - 1], after: this.sorted[j] };
  }

  /**
   * The known readings that bound a counter at `tMs`: the earlier one it may rise least from and the
   * later one that may rise least from it (`bindingReading` over each side, towards `tMs`). A reading
   * that rose from the stretch before it more than the rating allows (a jump the door took as a new
   * trend) starts the stretch afresh, and a recorded replacement parts the old counter's readings.
   */
  binding(tMs: number, ratedAcW: number, replacedAtMs: number | null): { from?: KnownReading; to?: KnownReading } {
    const { sorted } = this;
    if (this.foldsFor !== `${ratedAcW}/${replacedAtMs}`) {
      this.foldsFor = `${ratedAcW}/${replacedAtMs}`;
      this.fromValid = 0;
      this.toValidFrom = sorted.length;
    }
    const follow = <P extends CounterPoint>(reference: P | undefined, next: P): P =>
      reference && next.wh - reference.wh <= maxCounterRiseWh(ratedAcW, next.tMs - reference.tMs)
        ? bindingReading(reference, next, ratedAcW)
        : next;
    const newCounter = (k: number) => replacedAtMs !== null && sorted[k]!.tMs >= replacedAtMs;
    const i = this.firstAtOrAfter(tMs);
    let j = i;
    while (j < sorted.length && sorted[j]!.tMs === tMs) j += 1;
    for (; this.fromValid < i; this.fromValid += 1) {
      const k = this.fromValid;
      const startsAfresh = k === 0 || (newCounter(k) && !newCounter(k - 1));
      this.fromFold[k] = startsAfresh ? sorted[k]! : follow(this.fromFold[k - 1], sorted[k]!);
    }
    // The later side runs back in time: mirrored, it is the same rule.
    for (; this.toValidFrom > j; this.toValidFrom -= 1) {
      const k = this.toValidFrom - 1;
      const mirrored = { tMs: -sorted[k]!.tMs, wh: -sorted[k]!.wh, reading: sorted[k]! };
      const startsAfresh = k === sorted.length - 1 || (newCounter(k + 1) && !newCounter(k));
      this.toFold[k] = startsAfresh ? mirrored : follow(this.toFold[k + 1], mirrored);
    }
    return { from: this.fromFold[i - 1], to: this.toFold[j]?.reading };
  }

  insert(reading: KnownReading): void {
    const at = this.firstAtOrAfter(reading.tMs);
    this.sorted.splice(at, 0, reading);
    // Folds up to it now miss it; folds from after it stay true, one place further on.
    this.fromValid = Math.min(this.fromValid, at);
    this.toFold.splice(at, 0, this.toFold[at]!);
    this.toValidFrom = this.toValidFrom > at ? this.toValidFrom + 1 : at + 1;
  }
}

interface Mirrored extends CounterPoint {
  reading: KnownReading;
}

export interface GapLimits {
  ratedAcW: number;
  /** An operator's recorded replacement: a new counter from then on. */
  replacedAtMs: number | null;
}

/** Why a late reading cannot fill the gap between its known neighbours, or null when it fits. */
export function gapMisfit(tMs: number, wh: number, timeline: KnownTimeline, limits: GapLimits): string | null {
  const { before, after } = timeline.around(tMs);
  const { from, to } = timeline.binding(tMs, limits.ratedAcW, limits.replacedAtMs);
  const replaced = (start: number, end: number) =>
    limits.replacedAtMs !== null && limits.replacedAtMs > start && limits.replacedAtMs <= end;
  const rise = (ms: number) => maxCounterRiseWh(limits.ratedAcW, ms);
  const noiseWh = COUNTER_LIMITS.noiseWh;
  const iso = (ms: number) => new Date(ms).toISOString();
  const fromBefore =
    !before || replaced(before.tMs, tMs)
      ? null
      : wh < before.wh - noiseWh
        ? `below the stored ${before.wh} Wh at ${iso(before.tMs)}`
        : from && wh - from.wh > rise(tMs - from.tMs)
          ? `${wh - from.wh} Wh above the stored ${from.wh} Wh at ${iso(from.tMs)}, more than the rating allows in between`
          : null;
  const toAfter =
    !after || replaced(tMs, after.tMs)
      ? null
      : wh > after.wh + noiseWh
        ? `above the stored ${after.wh} Wh at ${iso(after.tMs)}`
        : to && to.wh - wh > rise(to.tMs - tMs)
          ? `${to.wh - wh} Wh below the stored ${to.wh} Wh at ${iso(to.tMs)}, more than the rating allows in between`
          : null;
  if (!fromBefore && !toAfter) return null;
  // A drop between the neighbours is a reset (or a replacement) somewhere in the gap: the reading
  // belongs to one side of it and must fit that side.
  const resetBetween = before && after && after.wh < before.wh - noiseWh;
  if (resetBetween && (!fromBefore || !toAfter)) return null;
  return `energy_wh_total ${wh} at ${iso(tMs)} does not fit the stored readings around it: ${[fromBefore, toAfter].filter(Boolean).join('; ')}`;
}
