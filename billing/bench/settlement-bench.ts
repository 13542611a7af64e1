// npm run bench:settlement — the distribution company's settlement of one two-month period for the
// whole program: installations with one inverter and a contract in a fresh PostgreSQL database,
// three-hourly lifetime counters over the period (plus a day either side) in a fresh InfluxDB
// database, and their settlement file (every 20th meter 15 % low, every 10th not yet paid). Times
// the import, its re-import (nothing changes), the reconciliation and the cash position.
// BENCH_SETTLEMENT_SIZES=7000 (installations) sets the sizes.
import pg from 'pg';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { batchedLineWriter, freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { readBillingConfig } from '../src/config';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { daysBetween } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { cashPosition } from '../src/settlements/cash-position';
import { importSettlements } from '../src/settlements/import-settlements';
import { reconcileSettlements } from '../src/settlements/reconcile-settlements';

const SIZES = (process.env.BENCH_SETTLEMENT_SIZES ?? '7000').split(',').map(Number);
// Their period: 1 Mordad to 31 Shahrivar 1405, 62 days.
const DAYS = daysBetween('2026-07-23', '2026-09-23');
const H = 3_600_000;
const STEP = 3 * H;
const WH_PER_STEP = 9_000; // 3 kWh an hour on average: a 15 kWp plant's day spread evenly
const pad = (n: number) => String(n).padStart(6, '0');
const progress = (m: string) => process.stderr.write(`${m}\n`);
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, Number(((performance.now() - started) / 1000).toFixed(2))];
};

async function seed(pool: pg.Pool, influx: InfluxClient, installations: number): Promise<number> {
  await pool.query(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
     SELECT 'S-' || lpad(g::text, 6, '0'), 'bench plant', p.id, p.latitude, p.longitude, 15, 15, 'COMMISSIONED', now()
       FROM generate_series(1, $1::int) g JOIN provinces p ON p.id = 1 + g % 31`,
    [installations],
  );
  await pool.query(
    `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) SELECT 'SINV-' || ` +
      `substr(code, 3), id, 15000, 'bench', now() FROM installations`,
  );
  await pool.query(
    `INSERT INTO contracts (installation_id, reference, kind, start_date) SELECT id, 'C-' || code, 'SUPPORT', DATE '2023-06-01' FROM installations`,
  );
  await pool.query(
    `INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) SELECT id, DATE '2023-06-01', 30000 FROM contracts`,
  );
  const provinces = (
    await pool.query<{ province: string }>(
      'SELECT p.code AS province FROM installations i JOIN provinces p ON p.id = i.province_id ORDER BY i.id',
    )
  ).rows.map((r) => r.province);
  const from = DAYS[0]!.startMs - 24 * H;
  const steps = (DAYS[DAYS.length - 1]!.endMs + 24 * H - from) / STEP;
  const writer = batchedLineWriter(influx);
  let points = 0;
  for (let i = 1; i <= installations; i++) {
    const tags = `telemetry,installation=S-${pad(i)},province=${provinces[i - 1]},serial=SINV-${pad(i)}`;
    for (let s = 0; s <= steps; s++)
      await writer.add(`${tags} energy_wh_total=${1_000_000 + s * WH_PER_STEP} ${from + s * STEP}000000`);
    points += steps + 1;
  }
  await writer.done();
  return points;
}

/** The period's settlement file: the meter agrees (−1 %) except every 20th installation (−15 %). */
function settlementFile(installations: number): string {
  const periodKwh = (DAYS.length * 24 * WH_PER_STEP) / 3 / 1000;
  const lines = ['installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on'];
  for (let i = 1; i <= installations; i++) {
    const kwh = Math.round(periodKwh * (i % 20 === 0 ? 0.85 : 0.99));
    lines.push(
      `S-${pad(i)},1405/05/01,1405/06/31,${kwh},${kwh * 30_000},TAV-${pad(i)},${i % 10 === 0 ? '' : '1405/08/10'}`,
    );
  }
  return lines.join('\n');
}

for (const installations of SIZES) {
  const name = `bench_settlement_${installations}`;
  progress(`settlement bench: ${installations} installations, one two-month period`);
  const pool = new pg.Pool({ connectionString: await freshPgDatabase(name), max: 4 });
  // Written as the admin, reconciled as billing reads: the platform's reader.
  const { influx: admin } = await freshInfluxDatabase(name);
  const influx = new InfluxClient({ ...readBillingConfig(process.env).influx, database: name });
  const [points, seedSeconds] = await timed(() => seed(pool, admin, installations));
  progress(`  registry and ${points} counter readings written in ${seedSeconds} s`);
  const file = settlementFile(installations);
  const deps = {
    pool,
    influx,
    policy: DEFAULT_SETTLEMENT_POLICY,
    stepDowns: parseStepDowns('8:90,12:80,16:70'),
    lookaroundDays: 62,
    log: createLogger('settlement-bench', 'warn'),
  };
  const [first, importSeconds] = await timed(() => importSettlements(pool, file, { dryRun: false, actor: 'bench' }));
  const [again, reimportSeconds] = await timed(() => importSettlements(pool, file, { dryRun: false, actor: 'bench' }));
  const [summary, reconcileSeconds] = await timed(() => reconcileSettlements(deps));
  const [cash, cashSeconds] = await timed(() =>
    cashPosition(pool, '2026-11-25', DEFAULT_SETTLEMENT_POLICY.lateAfterDays),
  );
  if (first.created !== installations || again.unchanged !== installations || summary.reconciled !== installations)
    throw new Error(
      `bench run went wrong: ${JSON.stringify({ first, again: again.unchanged, summary: summary.byStatus })}`,
    );
  console.log(
    `BENCH ${JSON.stringify({
      name: 'settlement',
      installations,
      counterReadings: points,
      importSeconds,
      reimportSeconds,
      reconcileSeconds,
      cashPositionSeconds: cashSeconds,
      totalSeconds: Number((importSeconds + reconcileSeconds).toFixed(2)),
      byStatus: summary.byStatus,
      receivableLateRials: cash.receivableLateRials.toString(),
    })}`,
  );
  await pool.end();
}
