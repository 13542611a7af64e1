// A counter that reads more than its inverter could produce, against the real PostgreSQL and
// InfluxDB, the API and the CLI: the installation is held as implausible with the readings that
// made it so, the month cannot close, and an operator's audited decision releases it.
import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { monthCapacityBoundWh } from '../src/counter-reviews';
import { BillingError } from '../src/errors';
import { type BillingDeps, runMonth } from '../src/run-month';

const NAME = 'billing_implausible_test';
const MONTH = '1404-08';
const { startMs, endMs } = monthBounds(MONTH);
const H = 3_600_000;
const JUMP_AT = startMs + 200 * H;
let pool: pg.Pool;
let databaseUrl: string;
let influx: InfluxClient;
let deps: BillingDeps;
let app: FastifyInstance;
let admin: string;

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  deps = {
    pool,
    influx,
    log: createLogger('billing-test', 'silent'),
    config: {
      rules: {
        stepDowns: parseStepDowns(''),
        maintenanceFee: parseMaintenanceFee('0%'),
        minimumPayoutRials: 100_000n,
      },
      adjustmentMonths: 3,
      lookaroundDays: 400,
      settlements: DEFAULT_SETTLEMENT_POLICY,
    },
  };
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 1, 'ROOF', 'roof', p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now() FROM provinces p WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('INV-J', 1, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-1', 'SUPPORT', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2024-01-01', 30000);`);
  // 500 Wh an hour, then at hour 200 a jump of 9,999,999,000 Wh in one hour that never comes back.
  const lines = [];
  for (let t = startMs - 24 * H, wh = 1_000_000; t <= endMs + 24 * H; t += H) {
    if (t > startMs - 24 * H) wh += t === JUMP_AT ? 9_999_999_000 : 500;
    lines.push(`telemetry,installation=ROOF,province=yazd,serial=INV-J energy_wh_total=${wh} ${t}000000`);
  }
  await influx.write(lines.join('\n'));
  app = await testApp({ DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
  admin = await staffToken(app, 'implausible-admin', 'ADMIN', databaseUrl);
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
});

const hours = () => (endMs - startMs) / H;

describe('an implausible counter', () => {
  it('is held, not billed, named with its readings in the API and the CLI, and blocks the close', async () => {
    const draft = await runMonth(deps, MONTH, { actor: 'test' });
    expect(draft.totals.implausible).toBe(1);
    const bill = (await pool.query(`SELECT * FROM installation_bills WHERE month = $1`, [MONTH])).rows[0];
    expect(bill.implausible).toBe(true);
    expect(Number(bill.energy_wh)).toBe((hours() - 1) * 500); // the hour of the jump bills nothing
    expect(bill.detail.counters['INV-J'].heldWh).toBe(9_999_999_000);

    const attention = await app.inject({
      method: 'GET',
      url: `/billing/months/${MONTH}/attention`,
      headers: bearer(admin),
    });
    expect(attention.statusCode).toBe(200);
    const [held] = attention.json().items;
    expect(held).toMatchObject({ code: 'ROOF', implausible: true, incomplete: false });
    // The reviewer sees the most a decision may bill: the rating over the month + 10 %.
    expect(held.inverters[0].boundWh).toBe(monthCapacityBoundWh(MONTH, 5000));
    expect(held.inverters[0].boundWh).toBe(Math.floor((5000 * hours() * 110) / 100 + 200));
    expect(held.inverters[0].flags).toContainEqual({
      kind: 'counter_jump',
      at: new Date(JUMP_AT).toISOString(),
      fromAt: new Date(JUMP_AT - H).toISOString(),
      fromWh: 1_000_000 + (200 + 23) * 500,
      toWh: 1_000_000 + (200 + 23) * 500 + 9_999_999_000,
    });
    const month = (await app.inject({ method: 'GET', url: `/billing/months/${MONTH}`, headers: bearer(admin) })).json();
    expect(month.implausible).toBe(1);

    const cli = spawnSync('npx', ['tsx', 'billing/src/cli.ts', 'show', MONTH], {
      env: { ...process.env, DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME },
      encoding: 'utf8',
    });
    expect(cli.stdout).toContain('1 implausible (held)');
    expect(cli.stdout).toMatch(/ROOF \(yazd\): IMPLAUSIBLE, held/);
    expect(cli.stdout).toMatch(/INV-J: counter jumped from .* to .*: more than the rating can produce/);

    await expect(runMonth(deps, MONTH, { close: true, actor: 'test' })).rejects.toThrow(BillingError);
    const refused = await app.inject({ method: 'POST', url: `/billing/months/${MONTH}/close`, headers: bearer(admin) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/cannot close: 1 installation\(s\) read more energy .*\(ROOF\)/);
  });

  it('is released by an audited decision, which the close then bills', async () => {
    const bad = await app.inject({
      method: 'PUT',
      url: `/billing/months/${MONTH}/counters/INV-J/review`,
      headers: bearer(admin),
      payload: { decision: 'CORRECT', reason: 'no figure' },
    });
    expect(bad.statusCode).toBe(400);
    // Above the capacity bound no decision bills: a figure beyond it is refused, naming the bound.
    const tooMuch = await app.inject({
      method: 'PUT',
      url: `/billing/months/${MONTH}/counters/INV-J/review`,
      headers: bearer(admin),
      payload: { decision: 'CORRECT', correctedWh: 9_999_999_000, reason: 'the counter says so' },
    });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().message).toContain(`capacity bound is ${monthCapacityBoundWh(MONTH, 5000)} Wh`);
    const decided = await app.inject({
      method: 'PUT',
      url: `/billing/months/${MONTH}/counters/INV-J/review`,
      headers: bearer(admin),
      payload: { decision: 'CORRECT', correctedWh: hours() * 500, reason: 'meter swap glitch; site visit' },
    });
    expect(decided.statusCode).toBe(200);
    const audit = await pool.query(`SELECT actor, action, entity_id FROM audit_log WHERE action = 'counter.review'`);
    expect(audit.rows).toEqual([
      { actor: 'staff:implausible-admin', action: 'counter.review', entity_id: `${MONTH}/INV-J` },
    ]);

    const closed = await runMonth(deps, MONTH, { close: true, actor: 'test' });
    expect(closed.totals).toMatchObject({ implausible: 0, energyWh: hours() * 500 });
    const bill = (await pool.query(`SELECT * FROM installation_bills WHERE month = $1`, [MONTH])).rows[0];
    expect(bill.detail.counters['INV-J'].review).toMatchObject({ decision: 'CORRECT', correctedWh: hours() * 500 });
    expect(BigInt(bill.gross_rials)).toBe(BigInt(hours()) * 15_000n);
  });
});
