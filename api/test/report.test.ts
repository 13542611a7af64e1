// The monthly program report end to end: a month billed from counters in the real InfluxDB,
// closed and paid in the real PostgreSQL; the API prints it to PDF with Debian's Chromium and the
// PDF's text (pdftotext) holds the ledger's figures exactly; CSV and XLSX carry the same tables;
// only staff who see money get it; and it is e-mailed once to the configured list (local SMTP).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlerts, readAlertsConfig } from '../../alerts';
import { markPaid, payoutBatch, readBillingConfig, runMonth } from '../../billing';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseCsv } from '../../lib/csv';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { createLogger } from '../../lib/logger';
import { kwhFa, rialsFa } from '../../lib/text/persian-numbers';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshInfluxDatabase, freshPgDatabase, waitFor } from '../../testing/services';

const NAME = 'report_e2e';
const MONTH = '1404-08';
const H = 3_600_000;
const ARTIFACTS = 'artifacts/report';
const dir = mkdtempSync(join(tmpdir(), 'report-'));
let pool: pg.Pool;
let app: FastifyInstance;
let databaseUrl: string;
let smtp: SMTPServer;
const mails: { subject: string; raw: string }[] = [];
const token: Record<string, string> = {};

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const { influx } = await freshInfluxDatabase(NAME);
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT v.id, v.code, v.code, p.id, 31.9, 54.4, v.kwp, v.kwp, 'COMMISSIONED', now() FROM provinces p
      JOIN (VALUES (1, 'RPT-YAZD', 10, 'yazd'), (2, 'RPT-FARS', 5, 'fars')) v(id, code, kwp, province) ON p.code = v.province;
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('RPT-A', 1, 10000, 't', now()), ('RPT-B', 2, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-R1', 'SUPPORT',
      '2024-01-01'), (2, 2, 'C-R2', 'SUPPORT', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2024-01-01', 38500), (2, '2024-01-01', 30000);
    INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, first_due_month)
      VALUES (1, 'L-R1', 150000000, 2000000, 84, '${MONTH}');`);
  for (let i = 1; i <= 3; i++)
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, mobile, province_id, target_group, updated_at)
       SELECT $1, $2, $3, $4, NULL, id, 'OTHER', now() FROM provinces WHERE code = 'yazd'`,
      [i, nationalCodeFor(8000 + i), `Person ${i}`, shebaFor(8000 + i)],
    );
  await pool.query(`INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at) VALUES
    (1, 1, 5000, '2024-01-01', now()), (2, 1, 5000, '2024-01-01', now()), (3, 2, 5000, '2024-01-01', now())`);
  const bounds = monthBounds(MONTH);
  const lines: string[] = [];
  for (let t = bounds.startMs - 48 * H, k = 0; t <= bounds.endMs + 48 * H; t += H, k++) {
    lines.push(
      `telemetry,installation=RPT-YAZD,province=yazd,serial=RPT-A energy_wh_total=${1_000_000 + k * 2300} ${t}000000`,
    );
    lines.push(
      `telemetry,installation=RPT-FARS,province=fars,serial=RPT-B energy_wh_total=${500_000 + k * 1100} ${t}000000`,
    );
  }
  await influx.write(lines.join('\n'));
  const config = readBillingConfig({ ...process.env, DATABASE_URL: databaseUrl, BILLING_MAINTENANCE_FEE: '2%' });
  const deps = { pool, influx, log: createLogger('report-test', 'silent'), config };
  await runMonth(deps, MONTH, { close: true, actor: 'report-test' });
  await payoutBatch(pool, MONTH, 'report-test', { create: true });
  await markPaid(pool, MONTH, 'report-test');

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => {
        raw += chunk.toString('utf8');
      });
      stream.on('end', () => {
        mails.push({ subject: /^Subject: (.*)$/im.exec(raw)?.[1] ?? '', raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  app = await testApp({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    REPORT_EMAIL_TO: 'board@welfare.invalid,audit@welfare.invalid',
    REPORT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  });
  for (const role of ['ADMIN', 'OPERATOR', 'TECHNICIAN'] as const)
    token[role] = await staffToken(app, `report-${role.toLowerCase()}`, role, databaseUrl);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await app?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await pool?.end();
});

/** A CSV as records keyed by its header. */
function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.cells.map((name, i) => [name, r.cells[i] ?? ''])));
}

/** The ledger's figures, summed here in SQL, independently of billing's read function. */
async function ledger() {
  const { rows } = await pool.query(
    `SELECT m.energy_wh::text, m.gross_rials::text, m.net_rials::text, m.payable_rials::text, sum(b.loan_rials)::text AS loan,
            sum(b.fee_rials)::text AS fee, (SELECT total_rials::text FROM payout_batches WHERE month = m.month) AS paid
       FROM billing_months m JOIN installation_bills b ON b.month = m.month WHERE m.month = $1 GROUP BY m.month`,
    [MONTH],
  );
  const r = rows[0];
  return {
    energyWh: Number(r.energy_wh),
    gross: BigInt(r.gross_rials),
    net: BigInt(r.net_rials),
    payable: BigInt(r.payable_rials),
    loan: BigInt(r.loan),
    fee: BigInt(r.fee),
    paid: BigInt(r.paid),
  };
}

const get = (url: string, role?: string) =>
  app.inject({ method: 'GET', url, headers: role ? bearer(token[role]!) : {} });

describe('the monthly program report', { timeout: 300_000 }, () => {
  it("prints a Persian PDF whose text holds the ledger's figures exactly", async () => {
    const response = await get(`/reports/monthly/${MONTH}/pdf`, 'OPERATOR');
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    writeFileSync(join(dir, 'report.pdf'), response.rawPayload);
    writeFileSync(`${ARTIFACTS}/report-${MONTH}.pdf`, response.rawPayload);
    const text = execFileSync('pdftotext', ['-layout', join(dir, 'report.pdf'), '-'], { encoding: 'utf8' });
    const l = await ledger();
    expect(l.gross).toBeGreaterThan(10_000_000n);
    for (const [what, figure] of [
      ['gross', rialsFa(l.gross)],
      ['net', rialsFa(l.net)],
      ['payable', rialsFa(l.payable)],
      ['loan', rialsFa(l.loan)],
      ['fee', rialsFa(l.fee)],
      ['paid', rialsFa(l.paid)],
      ['energy', kwhFa(l.energyWh)],
    ])
      expect(text, what).toContain(figure);
    expect(text).toContain('یزد');
  });

  it('exports the same tables as CSV and XLSX', async () => {
    const l = await ledger();
    const summary = await get(`/reports/monthly/${MONTH}/csv?table=summary`, 'OPERATOR');
    expect(summary.statusCode).toBe(200);
    const values = new Map(records(summary.body).map((r) => [r.item, r.value]));
    expect(values.get('gross_rials')).toBe(String(l.gross));
    expect(values.get('net_rials')).toBe(String(l.net));
    expect(values.get('payable_rials')).toBe(String(l.payable));
    expect(values.get('paid_rials')).toBe(String(l.paid));
    const provinces = records((await get(`/reports/monthly/${MONTH}/csv?table=provinces`, 'OPERATOR')).body);
    expect(provinces.map((p) => p.province).sort()).toEqual(['فارس', 'یزد']);
    expect(provinces.reduce((t, p) => t + BigInt(p.gross_rials!), 0n)).toBe(l.gross);

    const xlsx = await get(`/reports/monthly/${MONTH}/xlsx`, 'ADMIN');
    expect(xlsx.statusCode).toBe(200);
    writeFileSync(join(dir, 'report.xlsx'), xlsx.rawPayload);
    // unzip checks every member's CRC; the sheets are the tables, in order, right to left.
    execFileSync('unzip', ['-tq', join(dir, 'report.xlsx')]);
    const sheet = execFileSync('unzip', ['-p', join(dir, 'report.xlsx'), 'xl/worksheets/sheet1.xml'], {
      encoding: 'utf8',
    });
    expect(sheet).toContain('rightToLeft="1"');
    expect(sheet).toContain(`<v>${l.gross}</v>`);
    expect(sheet).toContain(`<v>${l.payable}</v>`);
    const workbook = execFileSync('unzip', ['-p', join(dir, 'report.xlsx'), 'xl/workbook.xml'], { encoding: 'utf8' });
    expect([...workbook.matchAll(/<sheet name="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'summary',
      'progress',
      'provinces',
      'cash',
      'alerts',
      'income_at_risk',
    ]);
  });

  it('is for staff who see money: not technicians, not anonymous; a month not billed is not found', async () => {
    expect((await get(`/reports/monthly/${MONTH}/pdf`, 'TECHNICIAN')).statusCode).toBe(403);
    expect((await get(`/reports/monthly/${MONTH}/pdf`)).statusCode).toBe(401);
    expect((await get('/reports/monthly/1390-01/pdf', 'OPERATOR')).statusCode).toBe(404);
    expect((await get(`/reports/monthly/${MONTH}/doc`, 'OPERATOR')).statusCode).toBe(400);
    expect((await get('/reports/monthly/1404-13/pdf', 'OPERATOR')).statusCode).toBe(400);
  });

  it('is e-mailed once to the configured list, with the PDF and the XLSX', async () => {
    await waitFor(
      'the report e-mail',
      async () => mails.length,
      (n) => n >= 1,
      120_000,
      500,
    );
    expect(mails).toHaveLength(1);
    const raw = mails[0]!.raw;
    expect(raw).toMatch(/board@welfare\.invalid/);
    expect(raw).toMatch(/audit@welfare\.invalid/);
    expect(raw).toContain(`solar-report-${MONTH}.pdf`);
    expect(raw).toContain(`solar-report-${MONTH}.xlsx`);
    const audit = await pool.query(`SELECT entity_id FROM audit_log WHERE action = 'report.emailed'`);
    expect(audit.rows).toEqual([{ entity_id: MONTH }]);
  });

  it("shows the month's progress from its ledger, the same whenever it is made", async () => {
    const progress = async () => {
      const r = await get(`/reports/monthly/${MONTH}/csv?table=progress`, 'OPERATOR');
      expect(r.statusCode).toBe(200);
      return records(r.body);
    };
    const byProvince = async () =>
      records((await get(`/reports/monthly/${MONTH}/csv?table=provinces`, 'OPERATOR')).body).map((p) => [
        p.province,
        p.mw_commissioned,
        p.people,
      ]);
    const before = await progress();
    // The month billed 15 kWp (Yazd 10, Fars 5) and paid shares to 3 people (2 in Yazd's plant, 1 in Fars').
    expect(before.map((r) => [r.target, r.in_month, r.percent])).toEqual([
      ['35', '0.015', '0'],
      ['21000', '3', '0'],
    ]);
    const provincesBefore = await byProvince();
    expect(provincesBefore).toEqual(
      expect.arrayContaining([
        ['یزد', '0.01', '2'],
        ['فارس', '0.005', '1'],
      ]),
    );
    // The program grows after the month closed: a 100 kWp plant and two people with shares in it.
    await pool.query(`
      INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 3, 'RPT-LATER', 'later', id, 32.6, 51.6, 100, 100, 'COMMISSIONED', now() FROM provinces WHERE code = 'isfahan';
      INSERT INTO beneficiaries (id, national_code, full_name, province_id, target_group, updated_at)
      SELECT 4, '${nationalCodeFor(8004)}', 'Later 4', id, 'OTHER', now() FROM provinces WHERE code = 'isfahan';
      INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at) VALUES (4, 3, 5000,
        CURRENT_DATE, now()), (1, 3, 5000, CURRENT_DATE, now());`);
    try {
      expect(await progress()).toEqual(before);
      expect(await byProvince()).toEqual(provincesBefore);
    } finally {
      await pool.query(
        `DELETE FROM shares WHERE installation_id = 3; DELETE FROM beneficiaries WHERE id = 4; DELETE FROM installations WHERE id = 3`,
      );
    }
  });

  it("lists the open alerts costing the most, through the alerts component, with the registry's codes", async () => {
    const config = readAlertsConfig(process.env);
    const alert = (installationId: number, lostKwhPerDay: number) => ({
      rule: 'METER_SHORTFALL' as const,
      installationId,
      cause: 'export_meter' as const,
      severity: 'MINOR' as const,
      summary: 'export meter below our counters',
      lostKwhPerDay,
      actor: 'settlements',
    });
    // Yazd's plant is paid 38,500 Rials per kWh, Fars' 30,000: 1 kWh a day in Yazd costs less than 2 in Fars.
    await raiseAlerts(pool, config, [alert(1, 1), alert(2, 2)]);
    const risk = records((await get(`/reports/monthly/${MONTH}/csv?table=income_at_risk`, 'OPERATOR')).body);
    expect(risk.map((r) => [r.installation, r.province])).toEqual([
      ['RPT-FARS', 'فارس'],
      ['RPT-YAZD', 'یزد'],
    ]);
  });

  it('is photographed as printed (A4)', async () => {
    const html = await get(`/reports/monthly/${MONTH}/html`, 'OPERATOR');
    expect(html.statusCode).toBe(200);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 794, height: 1123 } });
      await page.setContent(html.body, { waitUntil: 'load' });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: `${ARTIFACTS}/report-${MONTH}.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
