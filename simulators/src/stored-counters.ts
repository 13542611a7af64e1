// A real inverter's lifetime counter survives restarts; a simulated one continues from the latest
// reading the platform stored for it, so restarting a fleet never looks like a counter reset.
import { influxIdent, type InfluxClient } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';

const TELEMETRY = `${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)}`;

/**
 * The latest stored `energy_wh_total` of each serial that has one; at or before `atOrBeforeMs` when
 * given (a backfill goes on from the counter stored before its period).
 */
export async function storedCounters(influx: InfluxClient, atOrBeforeMs?: number): Promise<Map<string, number>> {
  const when = atOrBeforeMs === undefined ? '' : ` WHERE time <= ${atOrBeforeMs}ms`;
  const [series = []] = await influx.query(`SELECT LAST("energy_wh_total") FROM ${TELEMETRY}${when} GROUP BY "serial"`);
  const out = new Map<string, number>();
  for (const s of series) {
    const value = s.values[0]?.[1];
    if (s.tags?.serial && typeof value === 'number') out.set(s.tags.serial, value);
  }
  return out;
}

/** The serials with readings stored after `afterMs`. */
export async function storedAfter(influx: InfluxClient, afterMs: number): Promise<Set<string>> {
  const [series = []] = await influx.query(
    `SELECT LAST("energy_wh_total") FROM ${TELEMETRY} WHERE time > ${afterMs}ms GROUP BY "serial"`,
  );
  return new Set(series.flatMap((s) => (s.tags?.serial ? [s.tags.serial] : [])));
}
