// The ledger against the real PostgreSQL and InfluxDB, with counters written by hand so every
// figure is known: drafts, reruns, the lock, closing, immutability, late data and payouts.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { hashSecret } from '../../lib/passwords';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { bearer, roundTripsDuring, staffToken, testApp } from '../../testing/api';
import { asOwner, freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { parseCsv } from '../../lib/csv';
import { ledgerProgress } from '../src/ledger-reads';
import { markPaid, payoutBatch } from '../src/payouts';
import { BillingError } from '../src/errors';
import { runMonth, withBillingLock, type BillingDeps } from '../src/run-month';
import { runScheduledActions } from '../src/scheduler';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';

const H = 3_600_000;
const ABAN = monthBounds('1404-08');
const AZAR = monthBounds('1404-09');
let pool: pg.Pool;
let databaseUrl: string;
let influx: InfluxClient;
let deps: BillingDeps;

/** Hourly readings of a counter growing `whPerHour`, on Tehran's full hours, over [fromMs, toMs]. */
function counterLines(
  serial: string,
  installation: string,
  fromMs: number,
  toMs: number,
  startWh: number,
  whPerHour: number,
  resetAtMs?: number,
): string[] {
  const lines = [];
  let wh = startWh;
  for (let t = fromMs; t <= toMs; t += H) {
    if (t > fromMs) wh += whPerHour;
    if (resetAtMs !== undefined && t === resetAtMs) wh = whPerHour; // counted from zero since the last reading
    lines.push(
      `telemetry,installation=${installation},province=yazd,serial=${serial} energy_wh_total=${wh} ${t}000000`,
    );
  }
  return lines;
}

beforeAll(async () => {
  databaseUrl = await freshPgDatabase('billing_ledger_test');
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase('billing_ledger_test'));
  deps = {
    pool,
    influx,
    log: createLogger('billing-test', 'silent'),
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
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT v.id, v.code, v.code, p.id, 31.9, 54.4, v.kwp, v.kwp, 'COMMISSIONED', now() FROM provinces p, (VALUES (1,
      'SHARED', 10), (2, 'SINGLE', 5)) v(id, code, kwp) WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('INV-A', 1, 10000, 't', now()), ('INV-B', 2, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-1', 'SUPPORT',
      '2024-01-01'), (2, 2, 'C-2', 'ORDINARY', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2024-01-01', 30000), (2, '2024-01-01', 25000);
    INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, first_due_month)
      VALUES (1, 'L-1', 100000000, 1000000, 100, '1404-01');`);
  for (let i = 1; i <= 3; i++) {
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, updated_at) ` +
        `SELECT $1, $2, $3, $4, id, 'OTHER', now() FROM provinces WHERE code = 'yazd'`,
      [i, nationalCodeFor(1000 + i), `Beneficiary, "${i}"`, i === 3 ? null : shebaFor(1000 + i)],
    );
  }
  // Beneficiary 2 joins the shared plant on 11 Aban (2025-11-02); 3 owns the single one.
  await pool.query(`INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, valid_until, updated_at) VALUES
    (1, 1, 5000, '2024-01-01', NULL, now()), (2, 1, 5000, '2025-11-02', NULL, now()), (3, 2, 5000, '2024-01-01', NULL, now())`);
  await influx.write(
    [
      ...counterLines('INV-A', 'SHARED', ABAN.startMs - 48 * H, AZAR.endMs + 48 * H, 5_000_000, 1000),
      // The single plant's inverter reset mid-Aban and was offline for Aban's last 6 hours (its buffer arrives later).
      ...counterLines(
        'INV-B',
        'SINGLE',
        ABAN.startMs - 48 * H,
        ABAN.endMs - 6 * H,
        2_000_000,
        500,
        ABAN.startMs + 240 * H,
      ),
    ].join('\n'),
  );
});

afterAll(async () => {
  await pool?.end();
});

const billOf = async (month: string, installationId: number) =>
  (
    await pool.query('SELECT * FROM installation_bills WHERE month = $1 AND installation_id = $2', [
      month,
      installationId,
    ])
  ).rows[0];

describe('billing a month', () => {
  it('bills energy from the counters, deducts, allocates and reruns identically', async () => {
    const first = await runMonth(deps, '1404-08', { actor: 'test' });
    expect(first.status).toBe('DRAFT');
    const hours = (ABAN.endMs - ABAN.startMs) / H;
    const shared = await billOf('1404-08', 1);
    expect(Number(shared.energy_wh)).toBe(hours * 1000);
    expect(BigInt(shared.gross_rials)).toBe(BigInt(hours) * 30_000n);
    expect(BigInt(shared.loan_rials)).toBe(8n * 1_000_000n); // installments 1..8 are due and none were repaid
    const single = await billOf('1404-08', 2);
    expect(Number(single.energy_wh)).toBe((hours - 6) * 500); // the reset loses nothing; the offline tail is not invented
    expect(single.incomplete).toBe(true);
    expect(single.detail.counters['INV-B'].flags.map((f: { kind: string }) => f.kind)).toEqual([
      'no_closing_reading',
      'counter_reset',
    ]);
    expect(single.detail.counters['INV-B'].epochs).toHaveLength(2);
    const lines = (
      await pool.query(
        `SELECT beneficiary_id, active_days, rials FROM statement_lines WHERE month = '1404-08' ORDER BY share_id`,
      )
    ).rows;
    expect(lines.map((l) => [l.beneficiary_id, l.active_days])).toEqual([
      [1, 30],
      [2, 20],
      [3, 30],
    ]);
    const pool_ = BigInt(shared.pool_rials);
    expect(BigInt(lines[0].rials) + BigInt(lines[1].rials) + pool_).toBe(BigInt(shared.net_rials));
    expect(pool_ > 0n).toBe(true); // the 5 kW nobody held for 10 days

    const again = await runMonth(deps, '1404-08', { actor: 'test' });
    expect(again.digest).toBe(first.digest);
    expect((await pool.query(`SELECT count(*)::int AS n FROM statements WHERE month = '1404-08'`)).rows[0].n).toBe(3);
  });

  it('refuses a run while another holds the billing lock, and lets one of two concurrent runs through', async () => {
    let refusal: unknown;
    await withBillingLock(pool, async () => {
      refusal = await runMonth(deps, '1404-08', { actor: 'test' }).catch((e) => e);
    });
    expect(refusal).toBeInstanceOf(BillingError);
    expect((refusal as BillingError).code).toBe('busy');
    const results = await Promise.allSettled([
      runMonth(deps, '1404-08', { actor: 'a' }),
      runMonth(deps, '1404-08', { actor: 'b' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as BillingError).code).toBe('busy');
  });

  it('closes in order, then refuses every change to the closed month', async () => {
    const tooEarly = await runMonth({ ...deps, now: () => ABAN.endMs - 1 }, '1404-08', {
      close: true,
      actor: 'test',
    }).catch((e) => e);
    expect(tooEarly.code).toBe('not_ended');
    expect(
      (await runMonth({ ...deps, now: () => ABAN.startMs - 1 }, '1404-08', { actor: 'test' }).catch((e) => e)).message,
    ).toMatch(/1404-08 has not started yet/);
    await runMonth(deps, '1404-09', { actor: 'test' });
    const outOfOrder = await runMonth(deps, '1404-09', { close: true, actor: 'test' }).catch((e) => e);
    expect(outOfOrder.message).toMatch(/close 1404-08 first/);

    // Three closes at once: one closes the month, the others are refused (busy, or closed by then).
    const closes = await Promise.allSettled(
      [1, 2, 3].map(() => runMonth(deps, '1404-08', { close: true, actor: 'test' })),
    );
    expect(closes.filter((r) => r.status === 'fulfilled').map((r) => r.value.status)).toEqual(['CLOSED']);
    for (const r of closes) if (r.status === 'rejected') expect(['busy', 'closed']).toContain(r.reason.code);
    expect(
      (
        await pool.query(
          `SELECT count(*)::int AS n FROM audit_log WHERE entity_id = '1404-08' AND action = 'billing.close'`,
        )
      ).rows[0].n,
    ).toBe(1);
    expect((await runMonth(deps, '1404-08', { actor: 'test' }).catch((e) => e)).code).toBe('closed');
    await expect(
      pool.query(`UPDATE statements SET payable_rials = payable_rials + 1 WHERE month = '1404-08'`),
    ).rejects.toThrow(/1404-08 is closed/);
    await expect(pool.query(`DELETE FROM statement_lines WHERE month = '1404-08'`)).rejects.toThrow(
      /1404-08 is closed/,
    );
    await expect(pool.query(`UPDATE billing_months SET net_rials = 0 WHERE month = '1404-08'`)).rejects.toThrow(
      /1404-08 is closed/,
    );
    await expect(pool.query(`INSERT INTO energy_adjustments VALUES ('1404-08', 1, '1404-07', 1, 1)`)).rejects.toThrow(
      /1404-08 is closed/,
    );
    await expect(pool.query('TRUNCATE statements CASCADE')).rejects.toThrow(/permission denied|cannot be truncated/);
  });

  it('turns late data for a closed month into an adjustment in the next open month, once', async () => {
    const billedWh = Number((await billOf('1404-08', 2)).energy_wh);
    // The single plant's datalogger comes back and flushes its buffer: Aban's last 6 hours and Azar.
    const lastWh = 500 * ((ABAN.endMs - 6 * H - (ABAN.startMs + 240 * H)) / H + 1);
    await influx.write(
      counterLines('INV-B', 'SINGLE', ABAN.endMs - 6 * H, AZAR.endMs + 48 * H, lastWh, 500).join('\n'),
    );
    await runMonth(deps, '1404-09', { actor: 'test' });
    const azar = await billOf('1404-09', 2);
    expect(azar.detail.adjustments).toEqual([
      {
        forMonth: '1404-08',
        wh: 6 * 500,
        rials: String(3n * 25_000n),
        reason: 'counter data for 1404-08 changed after it was closed',
      },
    ]);
    expect(BigInt(azar.adjustment_rials)).toBe(75_000n);
    expect(Number((await billOf('1404-08', 2)).energy_wh)).toBe(billedWh); // history is not rewritten
    expect(Number(azar.energy_wh)).toBe(((AZAR.endMs - AZAR.startMs) / H) * 500);
    // Re-running the draft replaces the adjustment instead of adding a second one.
    await runMonth(deps, '1404-09', { actor: 'test' });
    expect(
      (await pool.query(`SELECT count(*)::int AS n FROM energy_adjustments WHERE for_month = '1404-08'`)).rows[0].n,
    ).toBe(1);
    // A later open month does not carry the same correction again.
    await runMonth(deps, '1404-10', { actor: 'test' });
    expect((await billOf('1404-10', 2)).detail.adjustments).toEqual([]);
  });

  it('pays a closed month once, with a file that reconciles with the statements', async () => {
    await expect(payoutBatch(pool, '1404-09', 'test', { create: true })).rejects.toThrow(/1404-09 is a draft/);
    // Created by three at once: one batch, one file.
    const created = await Promise.all([1, 2, 3].map(() => payoutBatch(pool, '1404-08', 'test', { create: true })));
    const { csv, summary } = created[0]!;
    for (const other of created) expect(other.csv).toBe(csv);
    expect(
      (
        await pool.query(
          `SELECT count(*)::int AS n FROM audit_log WHERE entity_id = '1404-08' AND action = 'payout.create'`,
        )
      ).rows[0].n,
    ).toBe(1);
    // What the platform's monitor sees: billing ran, 1404-08 closed, its batch not paid (for 0 days).
    const progress = await ledgerProgress(pool, '1404-08', 0);
    expect(progress).toMatchObject({ monthStatus: 'CLOSED', unpaidBatches: 1 });
    expect(progress.lastComputedAt).toBeInstanceOf(Date);
    expect((await ledgerProgress(pool, '1404-08', 1)).unpaidBatches).toBe(0);
    expect((await ledgerProgress(pool, '1403-01', 0)).monthStatus).toBeNull();
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('sheba,amount_rials,name,reference');
    expect(rows).toHaveLength(3); // beneficiary 3 has no Sheba: withheld, and said so
    expect(rows[1]).toMatch(new RegExp(`^${shebaFor(1001)},\\d+,"Beneficiary, ""1""",SOLAR-1404-08-0000001$`));
    const statements = (
      await pool.query(`SELECT sum(payable_rials)::text AS total FROM statements WHERE month = '1404-08'`)
    ).rows[0].total;
    const fileTotal = rows.slice(1).reduce((s, r) => s + BigInt(r.split(',')[1]!), 0n);
    expect(String(fileTotal)).toBe(summary.totalRials);
    expect(summary.withheld.beneficiaries).toBe(1);
    expect(String(fileTotal + BigInt(summary.withheld.rials))).toBe(statements);
    expect(summary.reconciles).toBe(true);
    expect((await payoutBatch(pool, '1404-08', 'test', { create: true })).csv).toBe(csv);

    // Marked paid by three at once: once (one audit entry, one payment SMS per person).
    const paid = await Promise.all([1, 2, 3].map(() => markPaid(pool, '1404-08', 'test')));
    expect(paid.filter((p) => !p.alreadyPaid)).toHaveLength(1);
    expect(await markPaid(pool, '1404-08', 'test')).toEqual({ alreadyPaid: true });
    expect(
      (
        await pool.query(
          `SELECT count(*)::int AS n FROM audit_log WHERE entity_id = '1404-08' AND action = 'payout.paid'`,
        )
      ).rows[0].n,
    ).toBe(1);
    expect((await pool.query(`SELECT status FROM billing_months WHERE month = '1404-08'`)).rows[0].status).toBe('PAID');
    await expect(pool.query(`UPDATE payout_batches SET total_rials = 1 WHERE month = '1404-08'`)).rejects.toThrow(
      /is paid/,
    );
  });
});

describe('the daily schedule', () => {
  it('closes the previous month from the close day on and drafts the current one', async () => {
    const dayFive = monthBounds('1404-10').startMs + 4 * 86_400_000 + H;
    await runScheduledActions({ ...deps, now: () => dayFive - 86_400_000 }, 5);
    expect((await pool.query(`SELECT status FROM billing_months WHERE month = '1404-09'`)).rows[0].status).toBe(
      'DRAFT',
    );
    await runScheduledActions({ ...deps, now: () => dayFive }, 5);
    const months = (
      await pool.query(
        `SELECT month, status, closed_by FROM billing_months WHERE month IN ('1404-09', '1404-10') ORDER BY month`,
      )
    ).rows;
    expect(months).toEqual([
      { month: '1404-09', status: 'CLOSED', closed_by: 'scheduler' },
      { month: '1404-10', status: 'DRAFT', closed_by: null },
    ]);
  });
});

describe('billing over HTTP', () => {
  let app: FastifyInstance;
  let admin: string;
  let operator: string;
  let person: string;
  beforeAll(async () => {
    const url = databaseUrl;
    app = await testApp({ DATABASE_URL: url, INFLUX_DATABASE: 'billing_ledger_test' });
    admin = await staffToken(app, 'billing-admin', 'ADMIN', url);
    operator = await staffToken(app, 'billing-operator', 'OPERATOR', url);
    await pool.query('UPDATE beneficiaries SET pin_hash = $1 WHERE id = 1', [await hashSecret('4821')]);
    const signIn = await app.inject({
      method: 'POST',
      url: '/auth/beneficiary/sign-in',
      payload: { nationalCode: nationalCodeFor(1001), pin: '4821' },
    });
    person = signIn.json().token;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows a beneficiary only their own statements, each line traceable to the counters', async () => {
    const list = await app.inject({ method: 'GET', url: '/me/statements', headers: bearer(person) });
    expect(list.statusCode).toBe(200);
    expect(list.json().map((s: { month: string; status: string }) => [s.month, s.status])).toEqual([
      ['1404-10', 'DRAFT'],
      ['1404-09', 'CLOSED'],
      ['1404-08', 'PAID'],
    ]);
    const aban = (await app.inject({ method: 'GET', url: '/me/statements/1404-08', headers: bearer(person) })).json();
    const dbTotal = (
      await pool.query(`SELECT payable_rials::text FROM statements WHERE month = '1404-08' AND beneficiary_id = 1`)
    ).rows[0].payable_rials;
    expect(aban.payableRials).toBe(dbTotal);
    expect(aban.lines).toHaveLength(1);
    expect(aban.lines[0]).toMatchObject({ installation: 'SHARED', weightW: 5000, activeDays: 30 });
    expect(aban.lines[0].detail.counters['INV-A'].epochs[0].opening).toEqual({
      at: new Date(ABAN.startMs).toISOString(),
      wh: 5_048_000,
    });
    expect(aban.lines[0].detail.segments[0]).toMatchObject({ rialPerKwh: 30_000, percent: 100 });
    // The plant's loan: Aban deducted the eight installments due so far; the statement says what is left.
    expect(aban.lines[0].loans).toEqual([{ reference: 'L-1', deductedRials: '8000000', balanceRials: '92000000' }]);
    expect(
      (await app.inject({ method: 'GET', url: '/me/statements/1399-01', headers: bearer(person) })).statusCode,
    ).toBe(404);
    // Its ledger, registry and loans asked at once: one round trip (the session cached), as on payday
    // when PIN checks hold the cores and every round trip waits for one.
    expect(
      await roundTripsDuring(() =>
        app.inject({ method: 'GET', url: '/me/statements/1404-08', headers: bearer(person) }),
      ),
    ).toBe(1);
    expect((await app.inject({ method: 'GET', url: '/billing/months', headers: bearer(person) })).statusCode).toBe(403);
  });

  it('lets staff draft, look by province and installation, and refuses what roles or the lifecycle forbid', async () => {
    const draft = await app.inject({ method: 'POST', url: '/billing/months/1404-10/draft', headers: bearer(operator) });
    expect(draft.statusCode).toBe(200);
    expect(draft.json().status).toBe('DRAFT');
    expect(
      (await app.inject({ method: 'POST', url: '/billing/months/1404-10/close', headers: bearer(operator) }))
        .statusCode,
    ).toBe(403);
    const closed = await app.inject({
      method: 'POST',
      url: '/billing/months/1404-08/draft',
      headers: bearer(operator),
    });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().message).toMatch(/1404-08 is paid/);
    expect(
      (await app.inject({ method: 'POST', url: '/billing/months/1404-13/draft', headers: bearer(operator) })).json()
        .message,
    ).toMatch(/month must be 01 to 12/);
    const provinces = (
      await app.inject({ method: 'GET', url: '/billing/months/1404-08/provinces', headers: bearer(operator) })
    ).json();
    expect(provinces).toEqual([expect.objectContaining({ province: 'yazd', installations: 2, incomplete: 1 })]);
    const incomplete = (
      await app.inject({
        method: 'GET',
        url: '/billing/months/1404-08/installations?incomplete=true',
        headers: bearer(operator),
      })
    ).json();
    expect(incomplete.items.map((i: { code: string }) => i.code)).toEqual(['SINGLE']);
    const shared = (
      await app.inject({
        method: 'GET',
        url: '/billing/months/1404-08/installations/SHARED',
        headers: bearer(operator),
      })
    ).json();
    expect(shared.shares.map((s: { beneficiaryId: number }) => s.beneficiaryId)).toEqual([1, 2]);
    expect(
      shared.shares.reduce((t: bigint, s: { rials: string }) => t + BigInt(s.rials), BigInt(shared.poolRials)),
    ).toBe(BigInt(shared.netRials));
    const csv = await app.inject({ method: 'GET', url: '/billing/months/1404-08/payout.csv', headers: bearer(admin) });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe('sheba,amount_rials,name,reference');
    expect(
      (await app.inject({ method: 'GET', url: '/billing/months/1404-08/payout.csv', headers: bearer(operator) }))
        .statusCode,
    ).toBe(403);
  });

  const payoutFile = async () =>
    app.inject({ method: 'GET', url: '/billing/months/1404-09/payout.csv', headers: bearer(admin) });

  it('writes no spreadsheet formula and no forged row into the payout file, whatever the names', async () => {
    const forged = `${shebaFor(9999)},999999999,Mallory,SOLAR-1404-09-0000009`;
    await pool.query('UPDATE beneficiaries SET full_name = $2 WHERE id = $1', [1, '=HYPERLINK("http://x.test","pay")']);
    await pool.query('UPDATE beneficiaries SET full_name = $2 WHERE id = $1', [2, `\t@SUM(1)\r\n${forged}`]);
    const created = await app.inject({ method: 'POST', url: '/billing/months/1404-09/payout', headers: bearer(admin) });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ rows: 2, reconciles: true, withheld: { beneficiaries: 1 } });
    const first = (await payoutFile()).body;

    // No formula and no forged row: two transfers, every cell text a spreadsheet will not evaluate.
    const records = parseCsv(first);
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.cells[2])).toEqual([
      'name',
      `'=HYPERLINK("http://x.test","pay")`,
      `' @SUM(1)  ${forged}`,
    ]);
    expect(first.split('\r\n').filter(Boolean)).toHaveLength(3);
    for (const record of records) for (const cell of record.cells) expect(cell).not.toMatch(/^\s*[=+\-@]/);
  });

  it('freezes the payout file when the batch is created and never serves one that does not reconcile', async () => {
    const created = await app.inject({ method: 'POST', url: '/billing/months/1404-09/payout', headers: bearer(admin) });
    const first = (await payoutFile()).body;

    // A later change to a beneficiary's bank details changes nothing in an existing batch.
    await pool.query('UPDATE beneficiaries SET sheba = $2, full_name = $3 WHERE id = $1', [
      1,
      shebaFor(4242),
      'Renamed',
    ]);
    expect((await payoutFile()).body).toBe(first);
    expect(
      (await app.inject({ method: 'GET', url: '/billing/months/1404-09/payout', headers: bearer(admin) })).json(),
    ).toMatchObject({ reconciles: true, sha256: created.json().sha256 });
    // Its rows cannot be changed, removed or added to.
    await expect(pool.query(`UPDATE payout_rows SET amount_rials = 1 WHERE month = '1404-09'`)).rejects.toThrow(
      /frozen/,
    );
    await expect(pool.query(`DELETE FROM payout_rows WHERE month = '1404-09'`)).rejects.toThrow(/frozen/);
    await expect(
      pool.query(
        `INSERT INTO payout_rows (month, line, beneficiary_id, sheba, name, amount_rials, reference) VALUES ('1404-09', 9, 3, $1, 'x', 1, 'x')`,
        [shebaFor(9999)],
      ),
    ).rejects.toThrow(/frozen/);

    // Rows changed behind the ledger's back (an owner switching the guard off, a doctored restore): not served.
    const owner = new pg.Client({ connectionString: asOwner(databaseUrl) });
    await owner.connect();
    await owner.query(`ALTER TABLE payout_rows DISABLE TRIGGER payout_rows_frozen;
      UPDATE payout_rows SET sheba = '${shebaFor(9999)}' WHERE month = '1404-09' AND line = 1;
      ALTER TABLE payout_rows ENABLE TRIGGER payout_rows_frozen`);
    await owner.end();
    const refused = await payoutFile();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/does not reconcile/);
    expect(
      (await app.inject({ method: 'GET', url: '/billing/months/1404-09/payout', headers: bearer(admin) })).json(),
    ).toMatchObject({ reconciles: false });
  });
});
