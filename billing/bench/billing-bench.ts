// npm run bench:billing — a full month for the full program and for ten times it: installations with
// one inverter and three 5 kW shares each, contracts, tariffs and loans in a fresh PostgreSQL
// database, and hourly lifetime counters (the month plus a day either side) in a fresh InfluxDB
// database. Times a draft run and its re-run (which replaces the draft) end to end.
// BENCH_BILLING_SIZES=7000,70000 (installations) sets the sizes; BENCH_BILLING_REUSE=1 bills the
// databases a previous run left instead of seeding them again.
import pg from 'pg';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { createLogger } from '../../lib/logger';
import { sinceTehranMidnightMs } from '../../lib/program/tehran-time';
import { readBillingConfig } from '../src/config';
import { InfluxClient } from '../../lib/influx/client';
import {
  batchedLineWriter,
  databaseUrl as testDatabaseUrl,
  freshInfluxDatabase,
  freshPgDatabase,
  grantPlatformUsers,
} from '../../testing/services';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { runMonth } from '../src/run-month';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';

const SIZES = (process.env.BENCH_BILLING_SIZES ?? '7000,70000').split(',').map(Number);
const MONTH = '1405-07';
const H = 3_600_000;
const progress = (m: string) => process.stderr.write(`${m}\n`);
const pad = (n: number) => String(n).padStart(6, '0');

async function seedRegistry(pool: pg.Pool, installations: number): Promise<void> {
  const beneficiaries = installations * 3;
  await pool.query(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT 'B-' || lpad(g::text, 6, '0'), 'bench plant', p.id, p.latitude, p.longitude, 15, 15, 'COMMISSIONED', now()
      FROM generate_series(1, $1::int) g JOIN provinces p ON p.id = 1 + g % 31`,
    [installations],
  );
  await pool.query(
    `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) SELECT 'BINV-' || ` +
      `substr(code, 3), id, 15000, 'bench', now() FROM installations`,
  );
  await pool.query(
    `INSERT INTO contracts (installation_id, reference, kind, start_date) SELECT id, 'C-' || code, CASE WHEN id ` +
      `% 2 = 0 THEN 'ORDINARY' ELSE 'SUPPORT' END::contract_kind, DATE '2019-06-01' FROM installations`,
  );
  await pool.query(`INSERT INTO tariff_periods (contract_id, effective_from, effective_until, rial_per_kwh) SELECT id,
    DATE '2019-06-01', DATE '2026-10-01', 30000 FROM contracts
                    UNION ALL SELECT id, DATE '2026-10-01', NULL, 38500 FROM contracts`);
  await pool.query(
    `INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, ` +
      `first_due_month) SELECT id, 'L-' || code, 150000000, 2200000, 84, '1405-01' FROM installations`,
  );
  for (let from = 0; from < beneficiaries; from += 50_000) {
    const n = Math.min(50_000, beneficiaries - from);
    const ids = Array.from({ length: n }, (_, i) => from + i + 1);
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, updated_at)
      SELECT t.id, t.code, 'بهره‌بردار ' || t.id, t.sheba, 1 + t.id % 31, 'OTHER', now() FROM unnest($1::int[], $2::text[], $3::text[]) AS t(id, code, sheba)`,
      [ids, ids.map((i) => nationalCodeFor(800_000_000 + i)), ids.map((i) => shebaFor(800_000_000 + i))],
    );
  }
  // Three shares per plant; every tenth plant has a member who joined on the 11th of the month.
  await pool.query(`INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at)
    SELECT b.id, i.id, 5000, CASE WHEN i.id % 10 = 0 AND b.id % 3 = 0 THEN DATE '2026-10-03' ELSE DATE '2025-01-01' END, now()
      FROM beneficiaries b JOIN installations i ON i.id = (b.id + 2) / 3`);
}

/** Hourly counter readings of every inverter, written two requests at a time in 10,000-line batches. */
async function seedCounters(influx: InfluxClient, pool: pg.Pool, installations: number): Promise<number> {
  const provinceOf = (
    await pool.query<{ province: string }>(
      'SELECT p.code AS province FROM installations i JOIN provinces p ON p.id = i.province_id ORDER BY i.id',
    )
  ).rows.map((r) => r.province);
  const { startMs, endMs } = monthBounds(MONTH);
  const from = startMs - 24 * H;
  const hours = (endMs + 24 * H - from) / H;
  const writer = batchedLineWriter(influx);
  let points = 0;
  for (let i = 1; i <= installations; i++) {
    const tags = `telemetry,installation=B-${pad(i)},province=${provinceOf[i - 1]},serial=BINV-${pad(i)}`;
    let wh = 1_000_000 + i * 1000;
    for (let h = 0; h <= hours; h++) {
      const t = from + h * H;
      const solarHour = sinceTehranMidnightMs(t) / H - 6; // hours after 06:00 Tehran time
      if (solarHour > 0 && solarHour < 12)
        wh += Math.round(12_000 * Math.sin((Math.PI * solarHour) / 12) * (0.8 + ((i * 31 + h) % 7) / 30));
      await writer.add(`${tags} energy_wh_total=${wh} ${t}000000`);
    }
    points += hours + 1;
    if (i % 5000 === 0) progress(`  counters: ${i}/${installations} inverters`);
  }
  await writer.done();
  return points;
}

for (const installations of SIZES) {
  const name = `bench_billing_${installations}`;
  progress(`billing bench: ${installations} installations, ${installations * 3} beneficiaries`);
  const reuse = process.env.BENCH_BILLING_REUSE === '1';
  const databaseUrl = reuse ? testDatabaseUrl().replace(/\/[^/?]+(\?|$)/, `/${name}$1`) : await freshPgDatabase(name);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  // Billing reads as the platform's reader; the fixture is written as the admin.
  const influx = new InfluxClient({ ...readBillingConfig(process.env).influx, database: name });
  if (reuse) await grantPlatformUsers(name);
  let points = Number(
    (await influx.rows(`SELECT count("energy_wh_total") FROM "telemetry"`).catch(() => []))[0]?.count ?? 0,
  );
  if (!reuse) {
    const { influx: admin } = await freshInfluxDatabase(name);
    await seedRegistry(pool, installations);
    progress('  registry seeded; writing counters');
    const seedStarted = performance.now();
    points = await seedCounters(admin, pool, installations);
    progress(`  ${points} counter readings written in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);
  }
  const deps = {
    pool,
    influx,
    log: createLogger('billing-bench', 'warn'),
    config: {
      rules: {
        stepDowns: parseStepDowns('8:90,12:80,16:70'),
        maintenanceFee: parseMaintenanceFee('2%'),
        minimumPayoutRials: 100_000n,
      },
      adjustmentMonths: 3,
      lookaroundDays: 62,
      settlements: DEFAULT_SETTLEMENT_POLICY,
    },
  };
  for (const run of [1, 2]) {
    const started = performance.now();
    const summary = await runMonth(deps, MONTH, { actor: 'bench' });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      'BENCH',
      JSON.stringify({
        name: 'billing',
        installations,
        beneficiaries: summary.totals.beneficiaries,
        seconds: Number(seconds.toFixed(2)),
        run,
        phases: summary.phases,
        counterReadings: points,
        statementsPayableRials: summary.totals.payableRials.toString(),
        digest: summary.digest.slice(0, 16),
      }),
    );
  }
  await pool.end();
}
