// Grafana's Cash position dashboard and the API's cash position are one computation: after a paid
// settlement is corrected (twice: the latest correction is in force), each panel's query, run as
// Grafana runs it (the read-only role, the committed JSON), gives the figures that
// GET /settlements/cash-position and GET /settlements give. Only PostgreSQL and the API in-process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSettlements } from '../../billing';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshPgDatabase, waitFor } from '../../testing/services';
import { interpolateSql, type QueryContext } from '../src/interpolate';
import { allPanels, queryText } from '../src/lint';
import { readerPool } from './grafana-runner';

const NAME = 'dashboards_cash';
const FILE = [
  'installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on',
  'CASH-YZD-1,1405/01/01,1405/02/31,1000,30000000,CP-1,1405/04/10',
  'CASH-FRS-1,1405/01/01,1405/02/31,1000,29000000,CP-2,', // unpaid months after its period: late
  'CASH-YZD-1,1405/03/01,1405/04/31,900,27000000,CP-3,1405/05/20',
].join('\n');

let pool: pg.Pool;
let reader: pg.Pool;
let databaseUrl: string;
let app: Awaited<ReturnType<typeof testApp>>;

const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'json', 'Program/solar-cash.json'), 'utf8'));
const ctx: QueryContext = {
  range: { fromMs: Date.now() - 365 * 86_400_000, toMs: Date.now() },
  intervalMs: 60_000,
  variables: new Map(),
};
/** A panel's rows as Grafana gets them, every value as text (PostgreSQL's bigint and numeric are). */
async function panelRows(title: string): Promise<Record<string, string | null>[]> {
  const panel = allPanels(dashboard).find((p) => p.title === title);
  expect(panel, title).toBeDefined();
  const { rows } = await reader.query(interpolateSql(queryText(panel!.targets![0]!), ctx));
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));
}
const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  await pool.query(`
    INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT v.code, v.code, p.id, p.latitude, p.longitude, 5, 5, 'COMMISSIONED', now()
      FROM provinces p JOIN (VALUES ('CASH-YZD-1', 'yazd'), ('CASH-FRS-1', 'fars')) v(code, province) ON v.province = p.code`);
  expect((await importSettlements(pool, FILE, { dryRun: false, actor: 'test' })).errors).toEqual([]);
  reader = await readerPool(databaseUrl, 1);
  app = await testApp({ DATABASE_URL: databaseUrl });
});

afterAll(async () => {
  await app?.close();
  await reader?.end();
  await pool?.end();
});

describe('the Cash position dashboard reads what the API computes', () => {
  it('after corrections of a paid settlement, every receivables panel equals GET /settlements/cash-position', async () => {
    const operator = bearer(await staffToken(app, 'cash-operator', 'OPERATOR', databaseUrl));
    const admin = bearer(await staffToken(app, 'cash-admin', 'ADMIN', databaseUrl));
    const cp1 = (await pool.query(`SELECT id FROM utility_settlements WHERE reference = 'CP-1'`)).rows[0].id;
    for (const [amountRials, correctedOn] of [
      ['31500000', '2026-08-01'],
      ['30600000', '2026-09-01'], // the one in force
    ] as const) {
      const made = await app.inject({
        method: 'POST',
        url: `/settlements/${cp1}/corrections`,
        headers: admin,
        payload: { meteredWh: '1020000', amountRials, reference: 'CP-1b', correctedOn, reason: 'meter read again' },
      });
      expect(made.statusCode, made.body).toBe(201);
    }
    const response = await app.inject({ method: 'GET', url: '/settlements/cash-position', headers: operator });
    expect(response.statusCode).toBe(200);
    const cash = response.json();
    // The API counts the latest correction (30,600,000), not the imported 30,000,000.
    expect(cash).toMatchObject({
      settledRials: String(30_600_000 + 29_000_000 + 27_000_000),
      receivedRials: String(30_600_000 + 27_000_000),
      receivableRials: '29000000',
      receivableLateRials: '29000000',
    });

    expect(await panelRows('Owed to beneficiaries and owed to the program')).toEqual([
      {
        Promised: cash.promisedRials,
        'Paid to beneficiaries': cash.paidToBeneficiariesRials,
        Settled: cash.settledRials,
        Received: cash.receivedRials,
        Outstanding: cash.receivableRials,
        Late: cash.receivableLateRials,
      },
    ]);
    type Receivables = { settledRials: string; receivedRials: string; dueRials: string; lateRials: string };
    const periods: ({ periodFrom: string; periodUntil: string; settlements: number } & Receivables)[] = cash.byPeriod;
    expect(periods).toHaveLength(2);
    expect(await panelRows('Settled and received per settlement period')).toEqual(
      periods.map((p) => ({ Period: p.periodFrom, Settled: p.settledRials, Received: p.receivedRials })),
    );
    expect(await panelRows('Receivables by settlement period')).toEqual(
      periods.toReversed().map((p) => ({
        From: p.periodFrom,
        To: dayBefore(p.periodUntil),
        Settlements: String(p.settlements),
        Settled: p.settledRials,
        Received: p.receivedRials,
        Outstanding: String(BigInt(p.dueRials) + BigInt(p.lateRials)),
        Late: p.lateRials,
      })),
    );
    const names = new Map(
      (await pool.query<{ code: string; name_en: string }>('SELECT code, name_en FROM provinces')).rows.map((p) => [
        p.code,
        p.name_en,
      ]),
    );
    const byProvince = (rows: Record<string, string | null>[]) =>
      rows.toSorted((a, b) => String(a.Province).localeCompare(String(b.Province)));
    expect(byProvince(await panelRows('Receivables by province'))).toEqual(
      byProvince(
        (cash.byProvince as ({ province: string } & Receivables)[]).map((p) => ({
          Province: names.get(p.province) ?? p.province,
          Settled: p.settledRials,
          Received: p.receivedRials,
          Outstanding: String(BigInt(p.dueRials) + BigInt(p.lateRials)),
          Late: p.lateRials,
        })),
      ),
    );
  });

  it('counts a settlement late after SETTLEMENT_LATE_AFTER_DAYS as the API is configured, not after the default 45', async () => {
    // Unpaid, its period ended 10 days ago (Tehran): late after 5 days, not after 45.
    await pool.query(
      `INSERT INTO utility_settlements (installation_id, period_from, period_until, metered_wh, amount_rials, reference)
       SELECT i.id, d - 60, d, 400000, 12000000, 'CP-4' FROM installations i,
              (SELECT (now() AT TIME ZONE 'Asia/Tehran')::date - 10 AS d) x WHERE i.code = 'CASH-FRS-1'`,
    );
    const impatient = await testApp({ DATABASE_URL: databaseUrl, SETTLEMENT_LATE_AFTER_DAYS: '5' });
    try {
      const operator = bearer(await staffToken(impatient, 'cash-impatient', 'OPERATOR', databaseUrl));
      const response = await impatient.inject({ method: 'GET', url: '/settlements/cash-position', headers: operator });
      const cash = response.json();
      expect(cash.receivableLateRials).toBe(String(29_000_000 + 12_000_000));
      await waitFor(
        'the API to record the days it counts with',
        async () => (await pool.query('SELECT late_after_days FROM settlement_policy')).rows[0]?.late_after_days,
        (days) => days === 5,
      );
      expect(await panelRows('Owed to beneficiaries and owed to the program')).toEqual([
        expect.objectContaining({ Outstanding: cash.receivableRials, Late: cash.receivableLateRials }),
      ]);
      const late = (rows: Record<string, string | null>[]) => rows.map((r) => r.Late).sort();
      expect(late(await panelRows('Receivables by settlement period'))).toEqual(
        late((cash.byPeriod as { lateRials: string }[]).map((p) => ({ Late: p.lateRials }))),
      );
      expect(late(await panelRows('Receivables by province'))).toEqual(
        late((cash.byProvince as { lateRials: string }[]).map((p) => ({ Late: p.lateRials }))),
      );
    } finally {
      await impatient.close();
    }
  });

  it('lists a corrected settlement that disagrees with telemetry with the figures GET /settlements shows', async () => {
    const operator = bearer(await staffToken(app, 'cash-operator', 'OPERATOR', databaseUrl));
    // What a reconciliation records (its own tests run it against InfluxDB): 5 % more energy than the meter's.
    await pool.query(
      `UPDATE utility_settlements SET telemetry_wh = 1071000, billed_rials = 32130000, status = 'METER_BELOW_TELEMETRY', reconciled_at = now()
        WHERE reference = 'CP-1'`,
    );
    const listed = await app.inject({
      method: 'GET',
      url: '/settlements?status=METER_BELOW_TELEMETRY',
      headers: operator,
    });
    const [item] = listed.json().items;
    expect(item).toMatchObject({
      reference: 'CP-1b',
      meteredWh: '1020000',
      amountRials: '30600000',
      correctionId: expect.any(Number),
    });
    expect(await panelRows('Settlements that disagree with telemetry')).toEqual([
      {
        Installation: item.installationCode,
        Province: 'Yazd',
        From: item.periodFrom,
        Reference: item.reference,
        Status: item.status,
        'Meter vs telemetry': '-4.8', // (1,020,000 − 1,071,000) / 1,071,000
        Settled: item.amountRials,
        Billed: item.billedRials,
        'Paid on': item.paidOn,
      },
    ]);
  });
});
