// The InfluxDB layout of the platform, in one place (documented in ingest/README.md).
//  - measurement `telemetry`: one point per reading; tags installation, province, serial (bounded by
//    the registry: a serial is only written once it is registered); every value a field, state too
//    (a state tag would multiply series). Timestamp = the device's reading time, so a redelivered
//    reading overwrites itself instead of adding.
//  - measurement `device_status`: online/offline from solar/v1/{serial}/status.
//  - measurement `rejected_message` (retention policy `rejected`): one point per rejected message,
//    with its reason, how many readings it held and its raw payload (truncated); tags only `reason`
//    and `worker` (device-chosen text never becomes a tag).
// Retention: `raw` keeps readings long enough to bill late data; `hourly` and `daily` rollups are
// kept forever and filled by continuous queries (hour and day boundaries on Tehran time);
// `rejected` keeps rejections for REJECTED_RETENTION: evidence to inspect, not a device's archive.
import { TEHRAN_UTC_OFFSET_MS } from '../program/tehran-time';
import { type InfluxClient, influxIdent } from './client';

export const MEASUREMENT = {
  telemetry: 'telemetry',
  deviceStatus: 'device_status',
  rejectedMessage: 'rejected_message',
} as const;

export const RETENTION = { raw: 'raw', hourly: 'hourly', daily: 'daily', rejected: 'rejected' } as const;
/** How long rejected messages are kept: long enough to look into a month's problems, short enough that a flood ages out. */
export const REJECTED_RETENTION = '30d';

/** Late data within these windows is picked up by the rollups when they resample. */
export const ROLLUP_RESAMPLE = { hourly: 'RESAMPLE EVERY 15m FOR 6h', daily: 'RESAMPLE EVERY 1h FOR 2d' };

const TEHRAN_OFFSET_MINUTES = TEHRAN_UTC_OFFSET_MS / 60_000;
/**
 * GROUP BY buckets on Tehran's hours and days: an hour starts at :30 UTC, a day at 20:30 UTC, so
 * hours nest in local days (the offset written in minutes, as InfluxDB echoes it back).
 */
export const TEHRAN_BUCKETS = {
  hourly: `time(1h, ${TEHRAN_OFFSET_MINUTES % 60}m)`,
  daily: `time(1d, ${24 * 60 - TEHRAN_OFFSET_MINUTES}m)`,
} as const;

function rollupQueries(db: string): { name: string; query: string }[] {
  const d = influxIdent(db);
  const t = influxIdent(MEASUREMENT.telemetry);
  return [
    {
      name: 'telemetry_hourly',
      query:
        `CREATE CONTINUOUS QUERY "telemetry_hourly" ON ${d} ${ROLLUP_RESAMPLE.hourly} BEGIN SELECT ` +
        `last("energy_wh_total") AS "energy_wh_total", mean("ac_power_w") AS "ac_power_w_mean", max("ac_power_w") ` +
        `AS "ac_power_w_max", count("ac_power_w") AS "readings" INTO ${d}."hourly".${t} FROM ${d}."raw".${t} GROUP BY ${TEHRAN_BUCKETS.hourly}, * END`,
    },
    {
      name: 'telemetry_daily',
      query:
        `CREATE CONTINUOUS QUERY "telemetry_daily" ON ${d} ${ROLLUP_RESAMPLE.daily} BEGIN SELECT ` +
        `last("energy_wh_total") AS "energy_wh_total", mean("ac_power_w_mean") AS "ac_power_w_mean", ` +
        `max("ac_power_w_max") AS "ac_power_w_max", sum("readings") AS "readings" INTO ${d}."daily".${t} FROM ${d}` +
        `."hourly".${t} GROUP BY ${TEHRAN_BUCKETS.daily}, * END`,
    },
  ];
}

/** Creates or corrects the database, retention policies and rollups. Safe to run any number of times. */
export async function ensureInfluxLayout(influx: InfluxClient, rawRetention: string): Promise<string[]> {
  const db = influx.database;
  const d = influxIdent(db);
  const changes: string[] = [];
  await influx.query(`CREATE DATABASE ${d}`, { database: null });

  const [policies = []] = await influx.query(`SHOW RETENTION POLICIES ON ${d}`, { database: null });
  const existing = new Map((policies[0]?.values ?? []).map((v) => [String(v[0]), v]));
  const wanted: [string, string, boolean][] = [
    [RETENTION.raw, rawRetention, true],
    [RETENTION.hourly, 'INF', false],
    [RETENTION.daily, 'INF', false],
    [RETENTION.rejected, REJECTED_RETENTION, false],
  ];
  for (const [name, duration, isDefault] of wanted) {
    const verb = existing.has(name) ? 'ALTER' : 'CREATE';
    await influx.query(
      `${verb} RETENTION POLICY ${influxIdent(name)} ON ${d} DURATION ${duration}${verb === 'CREATE' ? ' REPLICATION 1' : ''}${isDefault ? ' DEFAULT' : ''}`,
      { database: null },
    );
    if (verb === 'CREATE') changes.push(`retention policy ${name} (${duration})`);
  }

  const [cqSeries = []] = await influx.query('SHOW CONTINUOUS QUERIES', { database: null });
  const installed = new Map(
    (cqSeries.find((s) => s.name === db)?.values ?? []).map((v) => [String(v[0]), String(v[1])]),
  );
  for (const { name, query } of rollupQueries(db)) {
    const current = installed.get(name);
    if (current !== undefined && normaliseCq(current) === normaliseCq(query)) continue;
    if (current !== undefined)
      await influx.query(`DROP CONTINUOUS QUERY ${influxIdent(name)} ON ${d}`, { database: null });
    await influx.query(query, { database: null });
    changes.push(`continuous query ${name}`);
  }
  return changes;
}

// InfluxDB echoes a CQ with its own quoting and spacing; compare the essentials only.
function normaliseCq(q: string): string {
  return q.replace(/["\s]/g, '').toLowerCase();
}

/** Fills the rollups for a past range, e.g. after a simulator backfill older than the resample windows. */
export async function rebuildRollups(influx: InfluxClient, fromMs: number, toMs: number): Promise<void> {
  const range = `time >= ${fromMs}ms AND time < ${toMs}ms`;
  for (const { query } of rollupQueries(influx.database)) {
    const select = query.slice(query.indexOf('BEGIN') + 6, query.lastIndexOf(' END'));
    const [head, groupBy] = select.split(' GROUP BY ');
    await influx.query(`${head} WHERE ${range} GROUP BY ${groupBy}`, { database: null, method: 'POST' });
  }
}
