// A settlement that pays exactly what billing billed reconciles to 0, even
// across a tariff change and a month of little production: reconciliation reads and prices each
// billing month with billing's own code and rounds each month once, as billing does.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { parseMaintenanceFee } from '../src/core/deductions';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { type BillingDeps, runMonth } from '../src/run-month';
import { importSettlements } from '../src/settlements/import-settlements';
import { reconcileSettlements } from '../src/settlements/reconcile-settlements';

const NAME = 'billing_reconcile_as_billed_test';
const MEHR = monthBounds('1405-07');
const ABAN = monthBounds('1405-08');
const H = 3_600_000;
let pool: pg.Pool;
let influx: InfluxClient;
let deps: BillingDeps;

beforeAll(async () => {
  const databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  deps = {
    pool,
    influx,
    log: createLogger('billing-test', 'silent'),
    config: {
      rules: { stepDowns: parseStepDowns(''), maintenanceFee: parseMaintenanceFee('0%'), minimumPayoutRials: 0n },
      adjustmentMonths: 3,
      lookaroundDays: 400,
      settlements: { ...DEFAULT_SETTLEMENT_POLICY, differencePolicy: 'adjust' },
    },
  };
  // 25,000 Rials/kWh until Aban, 38,500 from its first day (a Tehran date: 2026-10-23).
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 1, 'ROOF', 'roof', p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now() FROM provinces p WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('INV-1', 1, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-1', 'SUPPORT', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, effective_until, rial_per_kwh) VALUES
      (1, '2024-01-01', '2026-10-23', 25000), (1, '2026-10-23', NULL, 38500);`);
  // Hourly: Mehr at 700 Wh an hour, Aban at 30 % of it (dust), a day either side.
  const lines = [];
  for (let t = MEHR.startMs - 24 * H, wh = 3_000_000; t <= ABAN.endMs + 24 * H; t += H) {
    lines.push(`telemetry,installation=ROOF,province=yazd,serial=INV-1 energy_wh_total=${wh} ${t}000000`);
    wh += t < ABAN.startMs ? 700 : 210;
  }
  await influx.write(lines.join('\n'));
});
afterAll(async () => {
  await pool.end();
});

describe('reconciliation priced as billed', () => {
  it('a settlement paying exactly what billing billed over a tariff change reconciles to 0', async () => {
    await runMonth({ ...deps, now: () => ABAN.endMs + 10 * 24 * H }, '1405-07', { close: true, actor: 'test' });
    await runMonth({ ...deps, now: () => ABAN.endMs + 10 * 24 * H }, '1405-08', { close: true, actor: 'test' });
    const billed = await pool.query<{ wh: string; rials: string }>(
      `SELECT sum(energy_wh)::text AS wh, sum(gross_rials)::text AS rials FROM installation_bills WHERE installation_id = 1`,
    );
    const { wh, rials } = billed.rows[0]!;
    const kwh = (Number(wh) / 1000).toFixed(3);
    const file =
      `installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on\nROOF,1405/07/01,1405/08/30,${kwh},${rials}` +
      `,TAV-19,1405/09/20\n`;
    await importSettlements(pool, file, { dryRun: false, actor: 'test' });
    const summary = await reconcileSettlements({
      pool,
      influx,
      policy: deps.config.settlements,
      stepDowns: deps.config.rules.stepDowns,
      lookaroundDays: 400,
      log: deps.log,
    });
    expect(summary.byStatus).toEqual({ WITHIN_TOLERANCE: 1 });
    const row = (await pool.query(`SELECT telemetry_wh, billed_rials, detail FROM utility_settlements`)).rows[0];
    expect(row.telemetry_wh).toBe(wh);
    expect(row.billed_rials).toBe(rials);
    expect(row.detail).toMatchObject({ amountDifferenceRials: '0', targetAdjustmentRials: '0' });
  });
});
