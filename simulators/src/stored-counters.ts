// A real inverter's lifetime counter survives restarts; a simulated one continues from the latest
// reading the platform stored for it, so restarting a fleet never looks like a counter reset.
import { influxIdent, type InfluxClient } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';

/** The latest stored `energy_wh_total` of each serial that has one. */
export async function storedCounters(influx: InfluxClient): Promise<Map<string, number>> {
  const [series = []] = await influx.query(
    `SELECT LAST("energy_wh_total") FROM ${influxIdent(RETENTION.raw)}.${influxIdent(MEASUREMENT.telemetry)} GROUP BY "serial"`,
  );
  const out = new Map<string, number>();
  for (const s of series) {
    const value = s.values[0]?.[1];
    if (s.tags?.serial && typeof value === 'number') out.set(s.tags.serial, value);
  }
  return out;
}
