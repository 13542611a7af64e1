// A real inverter's lifetime counter survives restarts; a simulated one continues from the counter
// the platform knows for it, so restarting a fleet never looks like a counter reset. The counter a
// serial's next reading continues is its current epoch's (billing's counter model, rule 5): after a
// replacement an operator recorded, the old inverter's lifetime total is no longer the serial's
// counter, the new one's is (recorded with the replacement, or read from what it reported since).
import type pg from 'pg';
import { latestReplacements, type Replacement } from '../../billing/index';
import { influxIdent, influxString, type InfluxClient } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';

const TELEMETRY = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;

export interface StoredReading {
  tMs: number;
  wh: number;
}

/**
 * The latest stored reading of each serial that has one (of `serial` alone when given); at or before
 * `atOrBeforeMs` when given (a backfill goes on from the counter stored before its period).
 */
export async function storedReadings(
  influx: InfluxClient,
  { atOrBeforeMs, serial }: { atOrBeforeMs?: number; serial?: string } = {},
): Promise<Map<string, StoredReading>> {
  const conditions = [
    ...(atOrBeforeMs === undefined ? [] : [`time <= ${atOrBeforeMs}ms`]),
    ...(serial === undefined ? [] : [`"serial" = ${influxString(serial)}`]),
  ];
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const [series = []] = await influx.query(
    `SELECT LAST("energy_wh_total") FROM ${TELEMETRY}${where} GROUP BY "serial"`,
  );
  const out = new Map<string, StoredReading>();
  for (const s of series) {
    const [tMs, wh] = s.values[0] ?? [];
    if (s.tags?.serial && typeof tMs === 'number' && typeof wh === 'number') out.set(s.tags.serial, { tMs, wh });
  }
  return out;
}

/** The latest stored `energy_wh_total` of each serial that has one; at or before `atOrBeforeMs` when given. */
export async function storedCounters(influx: InfluxClient, atOrBeforeMs?: number): Promise<Map<string, number>> {
  const stored = await storedReadings(influx, { atOrBeforeMs });
  return new Map([...stored].map(([serial, r]) => [serial, r.wh]));
}

/** The serials with readings stored after `afterMs`. */
export async function storedAfter(influx: InfluxClient, afterMs: number): Promise<Set<string>> {
  const [series = []] = await influx.query(
    `SELECT LAST("energy_wh_total") FROM ${TELEMETRY} WHERE time > ${afterMs}ms GROUP BY "serial"`,
  );
  return new Set(series.flatMap((s) => (s.tags?.serial ? [s.tags.serial] : [])));
}

/**
 * The counter a serial's next reading continues: the latest stored reading when it is at or after
 * the latest recorded replacement (billing and ingest count a reading at the replacement's instant
 * in the new epoch), else the replacement's initial counter, `wh: null` when that was not recorded.
 */
export interface EpochCounter {
  from: 'stored' | 'replacement';
  /** The stored reading's instant, or the replacement's. */
  atMs: number;
  wh: number | null;
}

export function epochCounter(
  stored: StoredReading | undefined,
  replacement: Replacement | undefined,
): EpochCounter | undefined {
  if (replacement && !(stored && stored.tMs >= replacement.atMs))
    return { from: 'replacement', atMs: replacement.atMs, wh: replacement.initialWh };
  return stored && { from: 'stored', atMs: stored.tMs, wh: stored.wh };
}

/**
 * Each serial's current epoch counter (of `serial` alone when given). With `atOrBeforeMs` (a
 * backfill), from the readings stored at or before it; a replacement recorded after it still shows
 * (`atMs` after it): the caller's to refuse, as its counters would cross it.
 */
export async function epochCounters(
  influx: InfluxClient,
  db: pg.ClientBase | pg.Pool,
  options: { atOrBeforeMs?: number; serial?: string } = {},
): Promise<Map<string, EpochCounter>> {
  const [stored, replaced] = await Promise.all([
    storedReadings(influx, options),
    latestReplacements(db, options.serial === undefined ? undefined : [options.serial]),
  ]);
  const out = new Map<string, EpochCounter>();
  for (const serial of new Set([...stored.keys(), ...replaced.keys()])) {
    const epoch = epochCounter(stored.get(serial), replaced.get(serial));
    if (epoch) out.set(serial, epoch);
  }
  return out;
}
