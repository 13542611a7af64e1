// npm run bench:dashboards — how long each dashboard takes to load for the full program: every
// variable and panel query, as Grafana runs them on opening the dashboard with its default range
// and all provinces, against fresh databases holding N installations (one 5 kW inverter each,
// spread over the 31 provinces): the rollups Grafana reads (daily for 40 days, hourly for 8 days)
// and the last 20 minutes of raw readings every 10 s, plus two billed months. Prints one BENCH line
// per dashboard (its queries concurrently, as Grafana runs them, three times; and one after the
// other) and one per query that alone takes more than 0.5 s.
// BENCH_DASHBOARDS_SIZES=7000,70000 (installations) sets the sizes.
import pg from 'pg';
import { readReaderAccount } from '../index';
import type { InfluxClient } from '../../lib/influx/client';
import { sinceTehranMidnightMs, tehranDate, tehranMidnight as midnightOf } from '../../lib/program/tehran-time';
import { freshInfluxDatabase, freshPgDatabase, influxAs } from '../../testing/services';
import { DASHBOARDS, jsonPath } from '../src/index';
import { ensureReaderRole } from '../src/reader-role';
import { defaultRange, GrafanaRunner } from '../test/grafana-runner';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SIZES = (process.env.BENCH_DASHBOARDS_SIZES ?? '7000').split(',').map(Number);
// Grafana's own datasource timeout is 30 s and more; measure a slow query instead of abandoning it.
process.env.INFLUX_TIMEOUT_MS ??= '120000';
const H = 3_600_000;
const D = 24 * H;
const NAME = 'dashboards_bench';
const progress = (m: string) => process.stderr.write(`${m}\n`);

async function seedRegistry(pool: pg.Pool, installations: number): Promise<void> {
  await pool.query(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
     SELECT 'B-' || lpad(g::text, 6, '0'), 'bench roof', p.id, p.latitude, p.longitude, 5, 5, 'COMMISSIONED', now()
     FROM generate_series(1, $1::int) g JOIN provinces p ON p.id = 1 + g % 31`,
    [installations],
  );
  await pool.query(
    `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
     SELECT 'BINV-' || substr(code, 3), id, 5000, 'bench', now() FROM installations`,
  );
  // Two billed months, the later a draft, so the billing panels have rows to read.
  for (const [month, status] of [
    ['1405-07', 'CLOSED'],
    ['1405-08', 'DRAFT'],
  ] as const) {
    await pool.query(
      `INSERT INTO billing_months (month, status, computed_at, digest, installations, beneficiaries, energy_wh,
        gross_rials, net_rials, pool_rials, payable_rials, incomplete)
       VALUES ($1, 'DRAFT', now(), repeat('0', 64), $2, 0, 0, 0, 0, 0, 0, 0)`,
      [month, installations],
    );
    await pool.query(
      `INSERT INTO installation_bills (month, installation_id, energy_wh, gross_rials, adjustment_rials, income_rials,
        loan_rials, fee_rials, net_rials, pool_rials, balance_out_rials, incomplete, detail)
       SELECT $1, id, 750000, 22500000, 0, 22500000, 2000000, 0, 20500000, 20500000, 0, id % 100 = 0, '{}' FROM installations`,
      [month],
    );
    if (status === 'CLOSED') await pool.query(`UPDATE billing_months SET status = 'CLOSED' WHERE month = $1`, [month]);
  }
}

/** Rollup and raw points shaped like ingest's and the continuous queries' output. */
async function seedInflux(influx: InfluxClient, pool: pg.Pool, now: number): Promise<number> {
  const { rows } = await pool.query<{ serial: string; code: string; province: string }>(
    `SELECT v.serial, i.code, p.code AS province FROM inverters v JOIN installations i ON i.id = v.installation_id JOIN provinces p ON p.id = i.province_id`,
  );
  const tehranMidnight = midnightOf(tehranDate(now));
  const hourStart = now - (sinceTehranMidnightMs(now) % H);
  let points = 0;
  const buffers = new Map<string, string[]>();
  const flush = async (retentionPolicy: string) => {
    const lines = buffers.get(retentionPolicy) ?? [];
    if (lines.length) await influx.write(lines.join('\n'), { retentionPolicy });
    points += lines.length;
    buffers.set(retentionPolicy, []);
  };
  const write = async (lines: string[], retentionPolicy: string) => {
    const buffer = buffers.get(retentionPolicy) ?? [];
    buffer.push(...lines);
    buffers.set(retentionPolicy, buffer);
    if (buffer.length >= 10_000) await flush(retentionPolicy);
  };
  for (const [index, r] of rows.entries()) {
    const tags = `telemetry,installation=${r.code},province=${r.province},serial=${r.serial}`;
    const daily: string[] = [];
    for (let d = 40; d >= 0; d--)
      daily.push(
        `${tags} energy_wh_total=${(40 - d) * 25_000 + index},ac_power_w_mean=1000,ac_power_w_max=4800,readings=8640i ${(tehranMidnight - d * D) * 1e6}`,
      );
    await write(daily, 'daily');
    const hourly: string[] = [];
    for (let h = 8 * 24; h >= 0; h--) {
      const power = Math.max(0, Math.sin((sinceTehranMidnightMs(hourStart - h * H) / H - 6) * (Math.PI / 12))) * 4000;
      hourly.push(
        `${tags} energy_wh_total=${(8 * 24 - h) * 1_000 + index},ac_power_w_mean=${power.toFixed(1)}` +
          `,ac_power_w_max=${power.toFixed(1)},readings=360i ${(hourStart - h * H) * 1e6}`,
      );
    }
    await write(hourly, 'hourly');
    const raw: string[] = [];
    for (let s = 120; s >= 0; s--)
      raw.push(`${tags} energy_wh_total=${1_000_000 + s},ac_power_w=2500,state="MPPT" ${(now - s * 10_000) * 1e6}`);
    await write(raw, 'raw');
    if (index % 1000 === 999) progress(`  influx: ${index + 1}/${rows.length} inverters`);
  }
  for (const rp of ['daily', 'hourly', 'raw']) await flush(rp);
  return points;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const size of SIZES) {
  progress(`seeding ${size} installations`);
  const databaseUrl = await freshPgDatabase(NAME);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const { influx } = await freshInfluxDatabase(NAME);
  await seedRegistry(pool, size);
  const now = Date.now();
  const points = await seedInflux(influx, pool, now);
  progress(`  ${points} points written`);
  const account = readReaderAccount(process.env);
  const admin = await pool.connect();
  await ensureReaderRole(admin, account).finally(() => admin.release());
  const url = new URL(databaseUrl);
  url.username = account.username;
  url.password = account.password;
  const reader = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // As the provisioned datasources: InfluxDB's reader, PostgreSQL's read-only role.
  const grafana = new GrafanaRunner(influxAs('READER', NAME), reader, process.env.PROMETHEUS_URL);

  for (const spec of DASHBOARDS.filter((d) => d.uid !== 'solar-ingest-health')) {
    const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'json', jsonPath(spec)), 'utf8'));
    const totals: number[] = [];
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      const range = defaultRange(dashboard);
      const { variables } = await grafana.resolveVariables(dashboard, range);
      // Grafana runs a dashboard's panel queries concurrently; so does this.
      await Promise.all(
        grafana.panelQueries(dashboard, range, variables).map((q) => grafana.run(q.kind, q.text, q.ctx)),
      );
      totals.push(performance.now() - started);
    }
    // Then each query alone, to see which ones cost the time.
    const range = defaultRange(dashboard);
    const { variables } = await grafana.resolveVariables(dashboard, range);
    const alone: [string, number][] = [];
    for (const q of grafana.panelQueries(dashboard, range, variables)) {
      const t = performance.now();
      await grafana.run(q.kind, q.text, q.ctx);
      alone.push([`${q.panel.title} ${q.target.refId}`, performance.now() - t]);
    }
    alone.sort((a, b) => b[1] - a[1]);
    console.log(
      'BENCH',
      JSON.stringify({
        name: `dashboards_load_${spec.uid}`,
        installations: size,
        runs: 3,
        median_ms: Math.round(median(totals)),
        max_ms: Math.round(Math.max(...totals)),
        queries_alone_ms: Math.round(alone.reduce((t, [, ms]) => t + ms, 0)),
      }),
    );
    for (const [query, ms] of alone.filter(([, ms]) => ms > 500))
      console.log(
        `BENCH ${JSON.stringify({ name: 'dashboards_query_alone', dashboard: spec.uid, installations: size, query, ms: Math.round(ms) })}`,
      );
  }
  await reader.end();
  await pool.end();
}
