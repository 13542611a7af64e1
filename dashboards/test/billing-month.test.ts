// Grafana's Billing dashboard shows a month's money as billing's month report does: with the
// adjustments (energy that arrived after its month closed, settlement differences carried), without
// which gross − deductions does not lead to the net. A closed month's ledger rows, read by each
// month panel as Grafana runs it (the read-only role, the committed JSON), against monthReportFigures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monthReportFigures } from '../../billing';
import { freshPgDatabase } from '../../testing/services';
import { interpolateSql, type QueryContext } from '../src/interpolate';
import { allPanels, queryText } from '../src/lint';
import { readerPool } from './grafana-runner';

const MONTH = '1405-07';
let pool: pg.Pool;
let reader: pg.Pool;

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'json', 'Program/solar-billing.json'), 'utf8'),
);
const ctx: QueryContext = {
  range: { fromMs: Date.now() - 365 * 86_400_000, toMs: Date.now() },
  intervalMs: 60_000,
  variables: new Map([['month', { values: [MONTH], multi: false, includeAll: false }]]),
};
async function panelRows(title: string): Promise<Record<string, string>[]> {
  const panel = allPanels(dashboard).find((p) => p.title === title);
  expect(panel, title).toBeDefined();
  const { rows } = await reader.query(interpolateSql(queryText(panel!.targets![0]!), ctx));
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));
}

beforeAll(async () => {
  const url = await freshPgDatabase('dashboards_billing_month');
  pool = new pg.Pool({ connectionString: url, max: 1 });
  await pool.query(`
    INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT 'BM-' || g, 'roof', p.id, p.latitude, p.longitude, 5, 5, 'COMMISSIONED', now()
      FROM generate_series(1, 2) g, provinces p WHERE p.code = 'yazd'`);
  await pool.query(
    `INSERT INTO billing_months (month, computed_at, digest, installations, beneficiaries, energy_wh,
                                 gross_rials, net_rials, pool_rials, payable_rials, incomplete)
     VALUES ($1, now(), repeat('0', 64), 2, 0, 1100000, 33000000, 31500000, 31500000, 0, 0)`,
    [MONTH],
  );
  // As billing writes them: income = gross + adjustments; net = income − loan − fee. One roof had
  // energy from a closed month arrive late (+1,200,000), the other a settlement difference carried
  // (−300,000) and a loan installment.
  await pool.query(
    `INSERT INTO installation_bills (month, installation_id, energy_wh, gross_rials, adjustment_rials, income_rials,
                                     loan_rials, fee_rials, net_rials, pool_rials, balance_out_rials, incomplete, detail)
     SELECT $1, i.id, v.wh, v.gross, v.adjustment, v.gross + v.adjustment, v.loan, v.fee, v.gross + v.adjustment - v.loan - v.fee,
            v.gross + v.adjustment - v.loan - v.fee, 0, false, '{}'
       FROM installations i JOIN (VALUES ('BM-1', 500000, 15000000, 1200000, 0, 200000),
                                         ('BM-2', 600000, 18000000, -300000, 2000000, 200000))
            v(code, wh, gross, adjustment, loan, fee) ON v.code = i.code`,
    [MONTH],
  );
  await pool.query(
    `UPDATE billing_months SET status = 'CLOSED', closed_at = now(), closed_by = 'test' WHERE month = $1`,
    [MONTH],
  );
  reader = await readerPool(url, 1);
});

afterAll(async () => {
  await reader?.end();
  await pool?.end();
});

it("shows a month's adjustments beside its gross, deductions and net, as billing's month report sums them", async () => {
  const report = await monthReportFigures(pool, MONTH);
  expect(report.adjustmentRials).toBe(900_000n);
  expect(report.grossRials + report.adjustmentRials - report.loanRials - report.feeRials).toBe(report.netRials);
  const figures = {
    Gross: String(report.grossRials),
    Adjustments: String(report.adjustmentRials),
    Deductions: String(report.loanRials + report.feeRials),
    Net: String(report.netRials),
    Pool: String(report.poolRials),
  };
  expect(await panelRows('The month in Rials')).toEqual([
    { ...figures, Payable: String(report.payableRials), Paid: '0' },
  ]);
  expect(await panelRows('Gross, adjustments, deductions, net and pool per month')).toEqual([
    { Month: MONTH, ...figures },
  ]);
  const [month] = await panelRows('Billing months');
  expect(month).toMatchObject({ Month: MONTH, Status: 'CLOSED', ...figures });
});
