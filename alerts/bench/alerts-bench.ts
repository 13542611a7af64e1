// npm run bench:alerts — one evaluation of the whole program at noon, for the full program and for
// ten times it: installations (one inverter each, spread around the province capitals, with tilts
// and contracts) in a fresh PostgreSQL database; in a fresh InfluxDB database, 30 days of daily
// rollup counters and the last half hour of 5-minute readings. 1 % of the fleet is silent, 1 % in
// fault, 2 % soiled, and one area of 50 installations is dark. Times the first evaluation (opens
// every alert, reads the daily history) and the next one (alerts already open, history cached).
// BENCH_ALERTS_SIZES=7000,70000 sets the sizes. Then the quality suite's run (test/quality.ts: the
// labelled fault library on 208 installations over 21 days through broker, ingest and InfluxDB),
// reported as BENCH alerts-quality; BENCH_ALERTS_QUALITY=0 skips it.
import pg from 'pg';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { readAlertsConfig } from '../src/config';
import { tehranDate, tehranMidnight } from '../../lib/program/tehran-time';
import { AlertsEvaluator } from '../src/evaluator';
import { runQuality } from '../test/quality';

const SIZES = (process.env.BENCH_ALERTS_SIZES ?? '7000,70000').split(',').map(Number);
const NOW = Date.parse('2026-11-18T08:30:00Z'); // noon in Tehran
const DAY = 86_400_000;
const progress = (m: string) => process.stderr.write(`${m}\n`);
const pad = (n: number) => String(n).padStart(6, '0');
const AREA = 50;

async function seedRegistry(pool: pg.Pool, n: number) {
  // Sites scattered up to ±1° around each capital; the first AREA installations share one spot, away from the scattered ones.
  await pool.query(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, tilt_deg, status, updated_at)
     SELECT 'A-' || lpad(g::text, 6, '0'), 'bench site', p.id,
            CASE WHEN g <= ${AREA} THEN 35.70 ELSE p.latitude + ((g::bigint * 7919) % 200 - 100) / 100.0 END,
            CASE WHEN g <= ${AREA} THEN 53.20 ELSE p.longitude + ((g::bigint * 104729) % 200 - 100) / 100.0 END,
            5, 5, 20 + (g % 3) * 5, 'COMMISSIONED', now()
       FROM generate_series(1, $1::int) g JOIN provinces p ON p.code = CASE WHEN g <= ${AREA} THEN 'tehran' ELSE
         (SELECT code FROM provinces ORDER BY id OFFSET g % 31 LIMIT 1) END`,
    [n],
  );
  await pool.query(
    `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) SELECT 'AINV-' || ` +
      `substr(code, 3), id, 5000, 'bench', now() FROM installations`,
  );
  await pool.query(
    `INSERT INTO contracts (installation_id, reference, kind, start_date) SELECT id, 'C-' || code, 'SUPPORT', DATE '2025-01-01' FROM installations`,
  );
  await pool.query(
    `INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) SELECT id, DATE '2025-01-01', 30000 FROM contracts`,
  );
  const { rows } = await pool.query<{ code: string; province: string }>(
    'SELECT i.code, p.code AS province FROM installations i JOIN provinces p ON p.id = i.province_id ORDER BY i.id',
  );
  return rows;
}

async function seedTelemetry(influx: InfluxClient, sites: { code: string; province: string }[]) {
  let batch: string[] = [];
  let points = 0;
  const inFlight = new Set<Promise<void>>();
  const flush = async (rp?: string) => {
    const write = influx.write(batch.join('\n'), rp ? { retentionPolicy: rp } : {}).then(() => {
      inFlight.delete(write);
    });
    inFlight.add(write);
    points += batch.length;
    batch = [];
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  const today = tehranDate(NOW);
  // Daily rollup: the last counter of each of 31 days; soiled sites (2 %) lose 1 % more a day.
  for (const [k, site] of sites.entries()) {
    const n = k + 1;
    const tags = `telemetry,installation=${site.code},province=${site.province},serial=AINV-${pad(n)}`;
    let wh = 1_000_000 + n;
    for (let d = 31; d >= 1; d--) {
      const dayStart = tehranMidnight(today) - d * DAY;
      const soiling = n % 50 === 7 ? Math.max(0.4, 1 - (31 - d) * 0.015) : 1;
      wh += Math.round(22_000 * (0.95 + ((n * 13 + d) % 10) / 100) * soiling);
      batch.push(`${tags} energy_wh_total=${wh} ${dayStart}000000`);
      if (batch.length >= 10_000) await flush('daily');
    }
  }
  if (batch.length > 0) await flush('daily');
  await Promise.all(inFlight);
  // Raw: 5-minute readings over the last half hour; silent sites (1 %, and the dark area) stopped
  // an hour ago; faulted ones (1 %) report FAULT.
  for (const [k, site] of sites.entries()) {
    const n = k + 1;
    const tags = `telemetry,installation=${site.code},province=${site.province},serial=AINV-${pad(n)}`;
    const silent = n <= AREA || n % 100 === 3;
    const from = silent ? NOW - 90 * 60_000 : NOW - 30 * 60_000;
    const to = silent ? NOW - 60 * 60_000 : NOW;
    for (let t = from; t <= to; t += 5 * 60_000) {
      const state = n % 100 === 5 ? 'FAULT' : 'MPPT';
      const events = state === 'FAULT' ? ',events="[\\"GROUND_FAULT\\"]"' : ''; // a JSON array, as ingest stores it
      batch.push(
        `${tags} energy_wh_total=${2_000_000 + n + (t - from) / 1000},ac_power_w=3000,state="${state}"${events} ${t}000000`,
      );
      if (batch.length >= 10_000) await flush();
    }
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
  return points;
}

for (const installations of SIZES) {
  const name = `bench_alerts_${installations}`;
  progress(`alerts bench: ${installations} installations`);
  const databaseUrl = await freshPgDatabase(name);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const { influx } = await freshInfluxDatabase(name);
  const sites = await seedRegistry(pool, installations);
  const points = await seedTelemetry(influx, sites);
  // Planner statistics, as autovacuum keeps them on a live database (bulk-loaded tables have none).
  await pool.query('ANALYZE');
  progress(`  seeded ${points} points`);
  const config = readAlertsConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: name,
    LOG_LEVEL: 'warn',
  });
  const evaluator = new AlertsEvaluator(
    pool,
    new InfluxClient({ ...config.influx, database: name }),
    config,
    createLogger('alerts-bench', 'warn'),
  );
  const first = await evaluator.evaluateOnce(NOW);
  const second = await evaluator.evaluateOnce(NOW + 60_000);
  const { rows } = await pool.query<{ rule: string; n: string }>(
    `SELECT rule::text, count(*)::text AS n FROM alerts WHERE state = 'OPEN' GROUP BY rule ORDER BY rule`,
  );
  console.log(
    `BENCH ${JSON.stringify({
      name: 'alerts',
      installations,
      first: first.ms,
      next: second.ms,
      intervalSeconds: config.intervalSeconds,
      opened: first.opened,
      open: Object.fromEntries(rows.map((r) => [r.rule, Number(r.n)])),
    })}`,
  );
  await pool.end();
}

if (process.env.BENCH_ALERTS_QUALITY !== '0') {
  const quality = await runQuality({
    fromMs: Date.parse('2026-09-30T20:30:00Z'),
    days: 21,
    perProvince: 26,
    intervalSeconds: 600,
    name: 'bench_alerts_quality',
    log: progress,
  });
  console.log(`BENCH ${JSON.stringify({ name: 'alerts-quality', ...quality })}`);
}
