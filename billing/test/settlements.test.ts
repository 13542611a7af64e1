// The distribution company's settlements against the real PostgreSQL and InfluxDB: import (dry run,
// all-or-nothing, re-import), reconciliation with telemetry over their two-month period, and the
// program's cash position as settlements arrive and are paid.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { DEFAULT_SETTLEMENT_POLICY, type SettlementPolicy } from '../src/core/reconcile-settlement';
import { type BillingDeps, runMonth } from '../src/run-month';
import { parseMaintenanceFee } from '../src/core/deductions';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { bearer, staffToken, testApp } from '../../testing/api';
import { daysBetween, monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { cashPosition } from '../src/settlements/cash-position';
import { importSettlements } from '../src/settlements/import-settlements';
import { reconcileSettlements, type SettlementDeps } from '../src/settlements/reconcile-settlements';

const H = 3_600_000;
// Their period: 1 Mordad to 31 Shahrivar 1405 (two Solar Hijri months here, 62 days).
const PERIOD = daysBetween('2026-07-23', '2026-09-23');
const PERIOD_WH = 62 * 24 * 1000; // every inverter makes 1 kWh an hour
const BILLED_RIALS = 1488n * 30_000n;
let pool: pg.Pool;
let databaseUrl: string;
let influx: InfluxClient;
let deps: SettlementDeps;
const policy: SettlementPolicy = {
  energyToleranceBasisPoints: 500,
  amountToleranceBasisPoints: 500,
  lateAfterDays: 45,
  differencePolicy: 'absorb',
};

const HEADER = 'installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on';
const FILE = [
  HEADER,
  'MATCH,1405/05/01,1405/06/31,1480,44400000,TAV-1,1405/07/20',
  // Meter 15 % below telemetry: a meter or line problem for a technician.
  'LOW,۱۴۰۵/۰۵/۰۱,۱۴۰۵/۰۶/۳۱,۱۲۶۴٫۸,"۳۷٬۹۴۴٬۰۰۰",TAV-2,1405/07/20',
  // Settled, not paid yet.
  'LATE,1405/05/01,1405/06/31,1488,44640000,TAV-3,',
].join('\n');

const count = async (table: string) => Number((await pool.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
const settlement = async (code: string) =>
  (
    await pool.query(
      `SELECT s.* FROM utility_settlements s JOIN installations i ON i.id = s.installation_id WHERE i.code = $1`,
      [code],
    )
  ).rows[0];

beforeAll(async () => {
  databaseUrl = await freshPgDatabase('settlements_test');
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase('settlements_test'));
  deps = {
    pool,
    influx,
    policy,
    stepDowns: parseStepDowns('8:90,12:80,16:70'),
    lookaroundDays: 62,
    log: createLogger('settlements-test', 'silent'),
  };
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, export_meter, updated_at)
    SELECT v.id, v.code, v.code, p.id, p.latitude, p.longitude, 5, 5, 'COMMISSIONED', v.meter, now()
      FROM provinces p, (VALUES (1, 'MATCH', 'yazd', 'M-1'), (2, 'LOW', 'yazd', 'M-2'), (3, 'LATE', 'fars', NULL), (4,
        'SILENT', 'fars', NULL)) v(id, code, province, meter)
     WHERE p.code = v.province;
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
    VALUES ('S-MATCH', 1, 5000, 't', now()), ('S-LOW', 2, 5000, 't', now()), ('S-LATE', 3, 5000, 't', now()), ('S-SILENT', 4, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date)
    SELECT id, id, 'C-' || id, 'SUPPORT', '2024-01-01' FROM installations;
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) SELECT id, '2024-01-01', 30000 FROM contracts;`);
  for (const id of [1, 2])
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, updated_at)
       SELECT $1, $2, 'Beneficiary', $3, id, 'OTHER', now() FROM provinces WHERE code = 'yazd'`,
      [id, nationalCodeFor(7000 + id), shebaFor(7000 + id)],
    );
  await pool.query(`INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at)
    VALUES (1, 2, 2500, '2024-01-01', now()), (2, 2, 2500, '2024-01-01', now())`);
  const lines: string[] = [];
  const from = PERIOD[0]!.startMs - 24 * H;
  const to = monthBounds('1405-08').endMs + 24 * H; // their period, then Mehr and Aban

  for (const [serial, code, province] of [
    ['S-MATCH', 'MATCH', 'yazd'],
    ['S-LOW', 'LOW', 'yazd'],
    ['S-LATE', 'LATE', 'fars'],
  ] as const)
    for (let t = from, wh = 7_000_000; t <= to; t += H, wh += 1000)
      lines.push(
        `telemetry,installation=${code},province=${province},serial=${serial} energy_wh_total=${wh} ${t}000000`,
      );
  await influx.write(lines.join('\n'));
});

afterAll(async () => {
  await pool?.end();
});

describe('settlement import', () => {
  it('a dry run reports what would change and writes nothing', async () => {
    const report = await importSettlements(pool, FILE, { dryRun: true, actor: 'test' });
    expect(report).toEqual({ dryRun: true, rows: 3, created: 3, updated: 0, unchanged: 0, errors: [] });
    expect(await count('utility_settlements')).toBe(0);
    expect(await count('audit_log')).toBe(0);
  });

  it('a file with a bad row imports nothing and names every problem by line and column', async () => {
    const bad = `${FILE}\nNOPE,1405/05/01,1405/06/31,1,1,X,\nMATCH,1405/06/01,1405/07/30,1,1,Y,\n`;
    const report = await importSettlements(pool, bad, { dryRun: false, actor: 'test' });
    expect(report.errors).toEqual([
      { line: 5, column: 'installation_code', reason: "no installation with code 'NOPE'" },
      { line: 6, column: 'period_start', reason: 'overlaps the period on line 2 for the same installation' },
    ]);
    expect(report.created).toBe(0);
    expect(await count('utility_settlements')).toBe(0);
  });

  it('imports all rows with an audit line each; the same file again changes nothing', async () => {
    expect(await importSettlements(pool, FILE, { dryRun: false, actor: 'test' })).toMatchObject({
      created: 3,
      errors: [],
    });
    const audit = await count('audit_log');
    expect(audit).toBe(3);
    expect(await importSettlements(pool, FILE, { dryRun: false, actor: 'test' })).toMatchObject({
      created: 0,
      updated: 0,
      unchanged: 3,
    });
    expect(await count('utility_settlements')).toBe(3);
    expect(await count('audit_log')).toBe(audit);
    expect(await settlement('LOW')).toMatchObject({
      metered_wh: '1264800',
      amount_rials: '37944000',
      reference: 'TAV-2',
    });
  });

  it('refuses to change or remove a paid settlement in any field, in the import and in the database', async () => {
    const paidLine = 'MATCH,1405/05/01,1405/06/31,1480,44400000,TAV-1,1405/07/20';
    const attempts: [string, string][] = [
      ['paid_on', paidLine.replace('1405/07/20', '')],
      ['amount_rials', paidLine.replace('44400000', '999999999999999999')],
      ['metered_kwh', paidLine.replace(',1480,', ',1481,')],
      ['reference', paidLine.replace('TAV-1', 'TAV-1b')],
      ['period_end', paidLine.replace('1405/06/31', '1405/06/30')],
    ];
    for (const [column, line] of attempts) {
      const report = await importSettlements(pool, FILE.replace(paidLine, line), { dryRun: false, actor: 'test' });
      expect(report.errors, column).toEqual([
        {
          line: 2,
          column,
          reason: expect.stringMatching(
            new RegExp(
              /^the payment of this settlement was recorded on 2026-10-12; a paid settlement is not changed by an import: /
                .source + /record a correction \(POST \/settlements\/\d+\/corrections\)$/.source,
            ),
          ),
        },
      ]);
      expect(report.updated).toBe(0);
    }
    for (const change of [
      'paid_on = NULL',
      'amount_rials = 999999999999999999',
      'metered_wh = metered_wh + 1',
      `reference = 'X'`,
      `period_until = period_until - 1`,
      'installation_id = 3',
    ])
      await expect(
        pool.query(`UPDATE utility_settlements SET ${change} WHERE reference = 'TAV-1'`),
        change,
      ).rejects.toThrow(
        /the payment of settlement TAV-1 was recorded on .*: it cannot be changed or deleted, record a correction/,
      );
    await expect(pool.query(`DELETE FROM utility_settlements WHERE reference = 'TAV-1'`)).rejects.toThrow(
      /cannot be changed or deleted/,
    );
    expect(await settlement('MATCH')).toMatchObject({
      amount_rials: '44400000',
      metered_wh: '1480000',
      reference: 'TAV-1',
    });
    // The reconciliation's own columns stay writable.
    await pool.query(`UPDATE utility_settlements SET status = NULL WHERE reference = 'TAV-1'`);
  });
});

describe('reconciliation with telemetry', () => {
  it('a matching settlement reconciles within tolerance; a meter 15 % below telemetry is flagged', async () => {
    const summary = await reconcileSettlements(deps);
    expect(summary).toMatchObject({
      reconciled: 3,
      periods: 1,
      byStatus: { WITHIN_TOLERANCE: 2, METER_BELOW_TELEMETRY: 1 },
      meterProblems: [{ installationCode: 'LOW', energyDifferencePercent: -15 }],
    });
    expect(await settlement('MATCH')).toMatchObject({
      telemetry_wh: String(PERIOD_WH),
      billed_rials: String(BILLED_RIALS),
      status: 'WITHIN_TOLERANCE',
    });
    expect(await settlement('LOW')).toMatchObject({ telemetry_wh: String(PERIOD_WH), status: 'METER_BELOW_TELEMETRY' });
    // Nothing left to do until something changes.
    expect((await reconcileSettlements(deps)).reconciled).toBe(0);
  });

  it('an installation without telemetry for the period is flagged as such, not as a meter problem', async () => {
    await importSettlements(pool, `${HEADER}\nSILENT,1405/05/01,1405/06/31,1488,44640000,TAV-4,`, {
      dryRun: false,
      actor: 'test',
    });
    const summary = await reconcileSettlements(deps);
    expect(summary.byStatus).toEqual({ TELEMETRY_MISSING: 1 });
    expect((await settlement('SILENT')).status).toBe('TELEMETRY_MISSING');
  });
});

describe('cash position', () => {
  it('a late settlement shows as outstanding, by period and province, and clears when paid', async () => {
    const today = '2026-11-20'; // 58 days after their period ended: past the 45 grace days
    let cash = await cashPosition(pool, today, policy.lateAfterDays);
    expect(cash).toMatchObject({
      settledRials: 44_400_000n + 37_944_000n + 2n * 44_640_000n,
      receivedRials: 44_400_000n + 37_944_000n,
      receivableRials: 2n * 44_640_000n,
      receivableLateRials: 2n * 44_640_000n,
      absorbedDifferenceRials: -240_000n - 6_696_000n, // LATE matches exactly; SILENT is not reconciled
    });
    expect(cash.byProvince.find((p) => p.province === 'fars')).toMatchObject({ lateRials: 2n * 44_640_000n });
    expect(cash.byPeriod).toEqual([
      expect.objectContaining({ periodFrom: '2026-07-23', periodUntil: '2026-09-23', settlements: 4 }),
    ]);
    await importSettlements(pool, FILE.replace('TAV-3,', 'TAV-3,1405/08/24'), { dryRun: false, actor: 'test' });
    cash = await cashPosition(pool, today, policy.lateAfterDays);
    expect(cash.receivableLateRials).toBe(44_640_000n);
    expect(cash.receivedRials).toBe(44_400_000n + 37_944_000n + 44_640_000n);
  });
});

const billingDeps = (differencePolicy: 'absorb' | 'adjust'): BillingDeps => ({
  pool,
  influx,
  log: createLogger('settlements-test', 'silent'),
  config: {
    rules: {
      stepDowns: parseStepDowns('8:90,12:80,16:70'),
      maintenanceFee: parseMaintenanceFee('0%'),
      minimumPayoutRials: 0n,
    },
    adjustmentMonths: 0,
    lookaroundDays: 62,
    settlements: { ...DEFAULT_SETTLEMENT_POLICY, differencePolicy },
  },
});
const lowBill = async (month: string) =>
  (await pool.query('SELECT * FROM installation_bills WHERE month = $1 AND installation_id = 2', [month])).rows[0];

describe('difference policy', () => {
  const totals = async (month: string) =>
    (
      await pool.query(
        `SELECT (SELECT sum(net_rials) FROM installation_bills WHERE month = $1) AS net,
                (SELECT sum(pool_rials) FROM installation_bills WHERE month = $1) AS pool,
                (SELECT sum(rials) FROM statement_lines WHERE month = $1) AS lines`,
        [month],
      )
    ).rows[0];

  it('absorb: the program keeps the difference; no line reaches a statement', async () => {
    await runMonth(billingDeps('absorb'), '1405-08', { actor: 'test' });
    expect((await lowBill('1405-08')).adjustment_rials).toBe('0');
    expect(await count('settlement_adjustments')).toBe(0);
  });

  it('adjust: a difference beyond tolerance is one adjustment line in the next open month, explained, once', async () => {
    const deps = billingDeps('adjust');
    await runMonth(deps, '1405-08', { actor: 'test' });
    await runMonth(deps, '1405-08', { actor: 'test' }); // a second draft replaces the first
    const bill = await lowBill('1405-08');
    expect(bill.gross_rials).toBe(String(720n * 30_000n)); // Aban's own energy
    expect(bill.adjustment_rials).toBe('-6696000'); // 37,944,000 settled − 44,640,000 billed
    expect(bill.detail.adjustments[0].reason).toBe(
      'settlement TAV-2 for 2026-07-23 to 2026-09-22: the distribution company paid 37,944,000 Rials for energy ' +
        'our counters priced at 44,640,000 (its meter read 15.0 % less); the difference is carried',
    );
    expect((await pool.query('SELECT month, rials FROM settlement_adjustments')).rows).toEqual([
      { month: '1405-08', rials: '-6696000' },
    ]);
    const t = await totals('1405-08');
    expect(BigInt(t.lines) + BigInt(t.pool)).toBe(BigInt(t.net)); // statements still add up to the Rial
    expect(BigInt(t.lines)).toBe(720n * 30_000n - 6_696_000n);

    await runMonth(deps, '1405-08', { actor: 'test', close: true });
    await runMonth(deps, '1405-09', { actor: 'test' });
    expect((await lowBill('1405-09')).adjustment_rials).toBe('0'); // carried once, in the closed month
    const cash = await cashPosition(pool, '2026-11-20', policy.lateAfterDays);
    expect(cash.carriedDifferenceRials).toBe(-6_696_000n);
    expect(cash.absorbedDifferenceRials).toBe(-240_000n);
  });
});

describe('over HTTP', () => {
  it('operators import, reconcile, list and see the cash position; technicians and beneficiaries cannot', async () => {
    const app = await testApp({ DATABASE_URL: databaseUrl, INFLUX_DATABASE: 'settlements_test' });
    try {
      const operator = bearer(await staffToken(app, 'settlement-operator', 'OPERATOR', databaseUrl));
      const technician = bearer(await staffToken(app, 'settlement-technician', 'TECHNICIAN', databaseUrl));
      const csv = { 'content-type': 'text/csv' };
      const file = `${HEADER}\nMATCH,1405/07/01,1405/08/30,1480,44400000,TAV-5,\nNOPE,1405/07/01,1405/08/30,1,1,X,`;
      const refused = await app.inject({
        method: 'POST',
        url: '/settlements/imports?dryRun=true',
        headers: { ...operator, ...csv },
        payload: file,
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json().errors).toEqual([
        { line: 3, column: 'installation_code', reason: "no installation with code 'NOPE'" },
      ]);
      const imported = await app.inject({
        method: 'POST',
        url: '/settlements/imports',
        headers: { ...operator, ...csv },
        payload: file.split('\n').slice(0, 2).join('\n'),
      });
      expect(imported.json()).toMatchObject({ created: 1, errors: [] });
      const reconciled = await app.inject({ method: 'POST', url: '/settlements/reconcile', headers: operator });
      // The new settlement, and SILENT's, still waiting for its telemetry.
      expect(reconciled.json()).toMatchObject({
        reconciled: 2,
        byStatus: { WITHIN_TOLERANCE: 1, TELEMETRY_MISSING: 1 },
      });
      const low = await app.inject({
        method: 'GET',
        url: '/settlements?status=METER_BELOW_TELEMETRY',
        headers: operator,
      });
      expect(low.json()).toMatchObject({
        total: 1,
        items: [
          { installationCode: 'LOW', meteredWh: '1264800', telemetryWh: String(PERIOD_WH), paidOn: '2026-10-12' },
        ],
      });
      const cash = await app.inject({ method: 'GET', url: '/settlements/cash-position', headers: operator });
      expect(cash.statusCode).toBe(200);
      expect(cash.json()).toMatchObject({ carriedDifferenceRials: '-6696000', promisedRials: expect.any(String) });
      // Technicians are told about the low meter: an alert priced by the energy it did not count.
      const all = await app.inject({ method: 'POST', url: '/settlements/reconcile?all=true', headers: operator });
      expect(all.json().meterProblems).toEqual([
        expect.objectContaining({ installationCode: 'LOW', reference: 'TAV-2', missingKwhPerDay: 3.6 }),
      ]);
      const alert = async () =>
        (
          await pool.query(
            `SELECT rule::text, state::text, lost_kwh_per_day::float AS kwh, lost_rials_per_day::text AS rials FROM alerts WHERE installation_id = 2`,
          )
        ).rows;
      expect(await alert()).toEqual([{ rule: 'METER_SHORTFALL', state: 'OPEN', kwh: 3.6, rials: '108000' }]);
      // The distribution company corrects the paid settlement: re-importing it is refused, a
      // correction (ADMIN, audited) reverses its figures and enters the new ones, and closes the alert.
      const before = (await app.inject({ method: 'GET', url: '/settlements/cash-position', headers: operator })).json();
      const corrected = `${HEADER}\nLOW,1405/05/01,1405/06/31,1480,44400000,TAV-2,1405/07/20`;
      expect((await importSettlements(pool, corrected, { dryRun: false, actor: 'test' })).errors).toHaveLength(1);
      const lowId = (await settlement('LOW')).id as number;
      const correction = {
        meteredWh: '1480000',
        amountRials: '44400000',
        correctedOn: '2026-11-25',
        reason: 'meter read again',
      };
      const correct = (headers: Record<string, string>, id: number, body: object = correction) =>
        app.inject({ method: 'POST', url: `/settlements/${id}/corrections`, headers, payload: body });
      expect((await correct(operator, lowId)).statusCode).toBe(403);
      const unpaidId = (await pool.query(`SELECT id FROM utility_settlements WHERE reference = 'TAV-5'`)).rows[0].id;
      const admin = bearer(await staffToken(app, 'settlement-admin', 'ADMIN', databaseUrl));
      expect((await correct(admin, unpaidId)).json().message).toMatch(/no recorded payment/);
      const made = await correct(admin, lowId);
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json()).toMatchObject({ installationCode: 'LOW', reversedRials: '37944000', newRials: '44400000' });
      expect((await correct(admin, lowId)).statusCode).toBe(409); // the same figures again: nothing to correct
      expect(await settlement('LOW')).toMatchObject({ amount_rials: '37944000', metered_wh: '1264800' });
      await expect(pool.query('UPDATE settlement_corrections SET amount_rials = 1')).rejects.toThrow(/append-only/);
      await expect(pool.query('DELETE FROM settlement_corrections')).rejects.toThrow(/append-only/);
      const audit = await pool.query(`SELECT actor, before, after FROM audit_log WHERE action = 'settlement.correct'`);
      expect(audit.rows).toEqual([
        expect.objectContaining({
          actor: 'staff:settlement-admin',
          before: expect.objectContaining({ amountRials: '37944000' }),
          after: expect.objectContaining({ amountRials: '44400000', reason: 'meter read again' }),
        }),
      ]);
      const after = (await app.inject({ method: 'GET', url: '/settlements/cash-position', headers: operator })).json();
      expect(BigInt(after.receivedRials) - BigInt(before.receivedRials)).toBe(44_400_000n - 37_944_000n);
      expect(after).toMatchObject({
        reversedRials: '37944000',
        correctedRials: '44400000',
        corrections: [expect.objectContaining({ reference: 'TAV-2', reversedRials: '37944000', newRials: '44400000' })],
      });
      // Listed with the figures in force, as the cash position counts them.
      const listed = await app.inject({ method: 'GET', url: '/settlements?province=yazd', headers: operator });
      expect(listed.json().items.find((i: { installationCode: string }) => i.installationCode === 'LOW')).toMatchObject(
        { reference: 'TAV-2', meteredWh: '1480000', amountRials: '44400000', correctionId: made.json().id },
      );
      await app.inject({ method: 'POST', url: '/settlements/reconcile', headers: operator });
      expect(await alert()).toEqual([expect.objectContaining({ rule: 'METER_SHORTFALL', state: 'CLEARED' })]);
      for (const url of ['/settlements', '/settlements/cash-position'])
        expect((await app.inject({ method: 'GET', url, headers: technician })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/settlements' })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('a corrected settlement under adjust', () => {
  it('carries what the correction changed, from the figures in force: the difference carried for TAV-2 comes back', async () => {
    // TAV-2 was carried as −6,696,000 in Aban (closed); its correction (44,400,000 for 1,480 kWh, see
    // above) is within tolerance, so nothing is to be carried any more: Azar carries the reversal.
    await runMonth(billingDeps('adjust'), '1405-09', { actor: 'test' });
    const bill = await lowBill('1405-09');
    expect(bill.adjustment_rials).toBe('6696000');
    expect(bill.detail.adjustments[0].reason).toBe(
      'settlement TAV-2 for 2026-07-23 to 2026-09-22: the distribution company paid 44,400,000 Rials for energy ' +
        'our counters priced at 44,640,000 (its meter read 0.5 % less); -6,696,000 carried before, this line is the change',
    );
  });
});
