// Late data for a closed month is evidence, not money, against the real
// PostgreSQL and InfluxDB: a device rewriting 15 days of a closed month gets no Rial without an
// operator's audited review; a silent end of month filled later within physics is paid at once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { reviewCounter } from '../src/counter-reviews';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { type BillingDeps, runMonth } from '../src/run-month';

const NAME = 'billing_late_data_test';
const ABAN = monthBounds('1404-08');
const H = 3_600_000;
let pool: pg.Pool;
let influx: InfluxClient;
let deps: BillingDeps;

/** Hourly readings rising `whPerHour` over [fromMs, toMs], from `startWh`. */
const counter = (serial: string, inst: string, fromMs: number, toMs: number, startWh: number, whPerHour: number) => {
  const lines = [];
  for (let t = fromMs, wh = startWh; t <= toMs; t += H, wh += whPerHour)
    lines.push(`telemetry,installation=${inst},province=yazd,serial=${serial} energy_wh_total=${wh} ${t}000000`);
  return lines.join('\n');
};
const billOf = async (month: string, code: string) =>
  (
    await pool.query(
      'SELECT b.* FROM installation_bills b JOIN installations i ON i.id = b.installation_id WHERE month = $1 AND i.code = $2',
      [month, code],
    )
  ).rows[0];

beforeAll(async () => {
  const databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  deps = {
    pool,
    influx,
    log: createLogger('billing-test', 'silent'),
    config: {
      rules: { stepDowns: parseStepDowns(''), maintenanceFee: parseMaintenanceFee('0%'), minimumPayoutRials: 1n },
      adjustmentMonths: 3,
      lookaroundDays: 62,
      settlements: DEFAULT_SETTLEMENT_POLICY,
    },
  };
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT v.id, v.code, v.code, p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now() FROM provinces p, (VALUES (1,
        'REWRITE'), (2, 'SILENT'), (3, 'GREEDY')) v(id, code) WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('INV-R', 1, 5000, 't',
      now()), ('INV-S', 2, 5000, 't', now()), ('INV-G', 3, 5000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) SELECT id, id, 'C-' || id, 'SUPPORT', '2024-01-01' FROM installations;
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) SELECT id, '2024-01-01', 30000 FROM contracts;`);
  const from = ABAN.startMs - 48 * H;
  await influx.write(
    [
      // REWRITE reports all month and after; SILENT and GREEDY go quiet for Aban's last 6 hours.
      counter('INV-R', 'REWRITE', from, ABAN.endMs + 48 * H, 3_000_000, 500),
      counter('INV-S', 'SILENT', from, ABAN.endMs - 6 * H, 1_000_000, 500),
      counter('INV-G', 'GREEDY', from, ABAN.endMs - 6 * H, 1_000_000, 500),
    ].join('\n'),
  );
  await runMonth(deps, '1404-08', { actor: 'test' });
  await runMonth(deps, '1404-08', { actor: 'test', close: true });
});

afterAll(async () => {
  await pool?.end();
});

describe('late data for a closed month', () => {
  it('holds a rewrite of 15 days of a closed month for review and pays nothing for it; pays a silent end filled within physics', async () => {
    const billedR = Number((await billOf('1404-08', 'REWRITE')).energy_wh);
    // REWRITE's device republishes Aban's last 15 days rising 4.5 kWh/h (under its 5 kW rating, day
    // and night) over the readings it was billed from, on to the readings after the month.
    const rewriteFrom = ABAN.endMs - 15 * 24 * H;
    const startWh = 3_000_000 + ((rewriteFrom - (ABAN.startMs - 48 * H)) / H) * 500;
    await influx.write(counter('INV-R', 'REWRITE', rewriteFrom, ABAN.endMs + 48 * H, startWh, 4500));
    // SILENT's buffer arrives: its last 6 hours at 500 Wh/h. GREEDY's "buffer" claims 4.5 kWh/h for them.
    const lastS = 1_000_000 + ((ABAN.endMs - 6 * H - (ABAN.startMs - 48 * H)) / H) * 500;
    await influx.write(counter('INV-S', 'SILENT', ABAN.endMs - 6 * H, ABAN.endMs + 48 * H, lastS, 500));
    await influx.write(counter('INV-G', 'GREEDY', ABAN.endMs - 6 * H, ABAN.endMs + 48 * H, lastS, 4500));

    const azar = await runMonth(deps, '1404-09', { actor: 'test' });
    const rewrite = await billOf('1404-09', 'REWRITE');
    expect(rewrite.detail.adjustments).toEqual([]);
    expect(BigInt(rewrite.adjustment_rials)).toBe(0n);
    expect(rewrite.implausible).toBe(true);
    expect(rewrite.detail.heldLateData).toEqual([
      expect.objectContaining({
        forMonth: '1404-08',
        reason: expect.stringMatching(
          /held for review: readings the month was billed from changed: INV-R at .* was \d+ Wh, now \d+/,
        ),
      }),
    ]);
    expect(rewrite.detail.heldLateData[0].wh).toBeGreaterThan(1_000_000); // what the rewrite would have paid
    const greedy = await billOf('1404-09', 'GREEDY');
    expect(greedy.detail.adjustments).toEqual([]);
    expect(greedy.detail.heldLateData[0].reason).toMatch(
      /more than 35 % of what the ratings could produce over the gap .* \(10500 Wh\)/,
    );
    const silent = await billOf('1404-09', 'SILENT');
    expect(silent.detail.adjustments).toEqual([
      {
        forMonth: '1404-08',
        wh: 6 * 500,
        rials: String(3n * 30_000n),
        reason: 'counter data for 1404-08 changed after it was closed',
      },
    ]);
    expect(silent.implausible).toBe(false);
    expect(azar.totals.implausible).toBe(2);
    // Held changes block the close like implausible energy.
    await expect(runMonth(deps, '1404-09', { actor: 'test', close: true })).rejects.toThrow(
      /cannot close: 2 installation\(s\) .* hold late changes to a closed month \(REWRITE, GREEDY\)/,
    );
    expect(Number((await billOf('1404-08', 'REWRITE')).energy_wh)).toBe(billedR); // history is not rewritten

    // The operator decides, audited: REWRITE keeps what it was billed (a correction to the billed
    // figure), GREEDY's late claim is accepted as read.
    await reviewCounter(
      pool,
      {
        month: '1404-08',
        serial: 'INV-R',
        decision: 'CORRECT',
        correctedWh: billedR,
        reason: 'device rewrote history',
      },
      'operator',
    );
    await reviewCounter(
      pool,
      { month: '1404-08', serial: 'INV-G', decision: 'ACCEPT', correctedWh: null, reason: 'checked on site' },
      'operator',
    );
    const decided = await runMonth(deps, '1404-09', { actor: 'test' });
    expect(decided.totals.implausible).toBe(0);
    expect((await billOf('1404-09', 'REWRITE')).detail.adjustments).toEqual([]);
    expect((await billOf('1404-09', 'GREEDY')).detail.adjustments).toEqual([
      expect.objectContaining({
        forMonth: '1404-08',
        wh: 6 * 4500,
        reason: expect.stringMatching(/reviewed by an operator/),
      }),
    ]);
    const audit = await pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'counter.review'`);
    expect(audit.rows[0].n).toBe(2);
  });
});
