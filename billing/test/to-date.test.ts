// A month still running is billed "to date": energy and income up to each inverter's latest reading,
// marked in the ledger, the API and the CLI, never closable; once the month ends it is billed whole.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { hashSecret } from '../../lib/passwords';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { readBillingConfig } from '../src/config';
import { monthBounds } from '../../lib/program/solar-hijri';
import { BillingError } from '../src/errors';
import { runMonth, type BillingDeps } from '../src/run-month';

const NAME = 'billing_to_date_test';
const H = 3_600_000;
const DEY = monthBounds('1404-10');
let pool: pg.Pool;
let influx: InfluxClient;
let databaseUrl: string;
let deps: BillingDeps;

/** Hourly readings of a counter rising 400 Wh an hour over [fromMs, toMs] (from `startWh` at `baseMs`). */
const hourly = (fromMs: number, toMs: number, baseMs: number, startWh: number) => {
  const lines = [];
  for (let t = fromMs; t <= toMs; t += H)
    lines.push(
      `telemetry,installation=ROOF,province=yazd,serial=TD-1 energy_wh_total=${startWh + ((t - baseMs) / H) * 400} ${t}000000`,
    );
  return lines.join('\n');
};

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  deps = { pool, influx, log: createLogger('to-date-test', 'silent'), config: readBillingConfig(process.env) };
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 1, 'ROOF', 'roof', p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now() FROM provinces p WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('TD-1', 1, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-TD', 'SUPPORT', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2024-01-01', 38500);`);
  await pool.query(
    `INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, pin_hash, updated_at)
       SELECT 1, $1, 'Beneficiary', $2, id, 'OTHER', NULL, now() FROM provinces WHERE code = 'yazd'`,
    [nationalCodeFor(4242), shebaFor(4242)],
  );
  await pool.query(
    `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at) VALUES (1, 1, 5000, '2024-01-01', now())`,
  );
  // Readings from two days before the month to its 10th day, 06:00.
  await influx.write(hourly(DEY.startMs - 48 * H, DEY.startMs + 9 * 24 * H + 6 * H, DEY.startMs, 1_000_000));
});

afterAll(async () => {
  await pool?.end();
});

describe('the running month, to date', () => {
  const tenthNoon = DEY.startMs + 9 * 24 * H + 12 * H;

  it('bills energy up to the latest reading, marked to date, complete, and cannot be closed', async () => {
    const run = await runMonth({ ...deps, now: () => tenthNoon }, '1404-10', { actor: 'test' });
    expect(run).toMatchObject({ status: 'DRAFT', toDateAt: tenthNoon });
    expect(run.totals.energyWh).toBe((9 * 24 + 6) * 400);
    expect(run.totals.grossRials).toBe(BigInt((9 * 24 + 6) * 400 * 38.5));
    expect(run.totals.incomplete).toBe(0); // no reading after the month's end is what "to date" means
    const month = (await pool.query(`SELECT * FROM billing_months WHERE month = '1404-10'`)).rows[0];
    expect(month.to_date_at.getTime()).toBe(tenthNoon);
    const bill = (await pool.query(`SELECT * FROM installation_bills WHERE month = '1404-10'`)).rows[0];
    expect(bill.detail.counters['TD-1'].flags.map((f: { kind: string }) => f.kind)).toEqual(['no_closing_reading']);
    expect(bill.incomplete).toBe(false);

    const refused = await runMonth({ ...deps, now: () => tenthNoon }, '1404-10', { close: true, actor: 'test' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(BillingError);
    expect((refused as BillingError).message).toMatch(/billed to date, as a draft, and cannot be closed/);
    // The ledger itself refuses a month billed to date that is anything but a draft.
    await expect(pool.query(`UPDATE billing_months SET status = 'CLOSED' WHERE month = '1404-10'`)).rejects.toThrow(
      /billing_months_to_date_is_draft/,
    );
  });

  it('shows it to date on the API, and the beneficiary how much of the month it covers', async () => {
    const app = await testApp({ DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
    try {
      const token = await staffToken(app, 'to-date-admin', 'ADMIN', databaseUrl);
      const month = await app.inject({ method: 'GET', url: '/billing/months/1404-10', headers: bearer(token) });
      expect(month.statusCode, month.body).toBe(200);
      expect(month.json()).toMatchObject({ status: 'DRAFT', toDateAt: new Date(tenthNoon).toISOString() });
      // The statement says how the figure is made: the month's own deductions are taken for 9.5 of its 30 days.
      await pool.query('UPDATE beneficiaries SET pin_hash = $1 WHERE id = 1', [await hashSecret('4821')]);
      const signIn = await app.inject({
        method: 'POST',
        url: '/auth/beneficiary/sign-in',
        payload: { nationalCode: nationalCodeFor(4242), pin: '4821' },
      });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const own = await app.inject({ method: 'GET', url: '/me/statements', headers: bearer(signIn.json().token) });
      const [ledger] = (await pool.query(`SELECT * FROM statements WHERE month = '1404-10' AND beneficiary_id = 1`))
        .rows;
      expect(own.json()).toEqual([
        expect.objectContaining({
          month: '1404-10',
          status: 'DRAFT',
          daysElapsed: 9.5,
          monthDays: 30,
          earnedRials: ledger.earned_rials,
          payableRials: ledger.payable_rials,
        }),
      ]);
    } finally {
      await app.close();
    }
  });

  it('is billed whole once the month has ended, then closes', async () => {
    await influx.write(hourly(DEY.startMs + 9 * 24 * H + 7 * H, DEY.endMs + 24 * H, DEY.startMs, 1_000_000));
    const after = DEY.endMs + 2 * 24 * H;
    const run = await runMonth({ ...deps, now: () => after }, '1404-10', { close: true, actor: 'test' });
    expect(run).toMatchObject({ status: 'CLOSED', toDateAt: null });
    expect(run.totals.energyWh).toBe(((DEY.endMs - DEY.startMs) / H) * 400);
    const month = (await pool.query(`SELECT * FROM billing_months WHERE month = '1404-10'`)).rows[0];
    expect(month.to_date_at).toBeNull();
  });
});
