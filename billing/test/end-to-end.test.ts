// A month of a small simulated fleet through the real broker, ingest, InfluxDB and PostgreSQL, then
// billed, closed and paid: billed energy equals the simulator's ground truth (within 1 Wh per
// counter epoch) and the money reconciles from installations to statements to the payout file.
// Two counters try to fool it: one silent from 5 days before the month to 5 days after,
// whose buffer arrives after the month was closed (billed as a late-data adjustment), and one
// replaced mid-month by an inverter whose counter starts at 40 MWh (its own epoch).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { parseScenario, planFleet, registerSimulatedFleet, runBackfill } from '../../simulators';
import {
  countPoints,
  discardIngestSession,
  fleetMqtt,
  freshInfluxDatabase,
  freshPgDatabase,
  startIngestProcess,
  waitFor,
  type IngestProcess,
} from '../../testing/services';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds, monthDays } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { payoutBatch } from '../src/payouts';
import { recordReplacement } from '../src/counter-reviews';
import { runMonth, type BillingDeps } from '../src/run-month';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';

const NAME = 'billing_e2e';
const MONTH = '1405-07'; // Mehr 1405
const { startMs, endMs } = monthBounds(MONTH);
const nextMonth = '1405-08';
const DAYS = monthDays(MONTH);
const H = 3_600_000;
const DAY = 24 * H;
const iso = (ms: number) => new Date(ms).toISOString();
const worker = `bill${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'billing-e2e-'));
let pool: pg.Pool;
let influx: InfluxClient;
let ingest: IngestProcess;
let clients: MqttClient[];
let databaseUrl: string;

// A shared 15 kWp plant on two inverters (one resets its counter at noon on day 12) and three 5 kWp
// roofs (one offline across the month's end, one offline from 5 days before the month to 5 days
// after it: both flush their buffers when they come back).
const scenario = parseScenario(
  JSON.stringify({
    seed: 11,
    inverters: [
      { serial: 'BILL-S1', province: 'Yazd', dcKwp: 7.5, ratedAcW: 7500 },
      { serial: 'BILL-S2', province: 'Yazd', dcKwp: 7.5, ratedAcW: 7500, initialCounterWh: 3_250_000 },
      { serial: 'BILL-R1', province: 'Kerman', dcKwp: 5, ratedAcW: 5000, initialCounterWh: 800_000 },
      { serial: 'BILL-R2', province: 'Fars', dcKwp: 5, ratedAcW: 5000 },
      { serial: 'BILL-R3', province: 'Bushehr', dcKwp: 5, ratedAcW: 5000, initialCounterWh: 2_000_000 },
    ],
    faults: [
      { serial: 'BILL-S2', kind: 'counter_reset', from: iso(DAYS[11]!.startMs + 8.5 * H) },
      { serial: 'BILL-R1', kind: 'offline', from: iso(endMs - 10 * H), until: iso(endMs + 14 * H) },
      { serial: 'BILL-R3', kind: 'offline', from: iso(startMs - 5 * DAY), until: iso(endMs + 5 * DAY) },
    ],
  }),
  'billing end-to-end scenario',
);

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  const planned = planFleet(scenario);
  await registerSimulatedFleet(planned, databaseUrl);
  // The two shared-plant inverters feed one installation of 15 kWp.
  await pool.query(`
    UPDATE inverters SET installation_id = (SELECT id FROM installations WHERE code = 'SIM-BILL-S1') WHERE serial = 'BILL-S2';
    DELETE FROM installations WHERE code = 'SIM-BILL-S2';
    UPDATE installations SET dc_capacity_kwp = 15, ac_rating_kw = 15 WHERE code = 'SIM-BILL-S1';`);
  ingest = await startIngestProcess({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    INGEST_SHARE_GROUP: `bill-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  const account = fleetMqtt();
  clients = await Promise.all(
    [0, 1].map((i) =>
      mqtt.connectAsync(account.url, {
        username: account.username,
        password: account.password,
        clientId: `bill-e2e-${process.pid}-${i}`,
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all((clients ?? []).map((c) => c.endAsync()));
  await ingest?.stop();
  await discardIngestSession(worker);
  await pool?.end();
  rmSync(dataDir, { recursive: true, force: true });
});

const id = async (code: string) =>
  (await pool.query<{ id: number }>('SELECT id FROM installations WHERE code = $1', [code])).rows[0]!.id;

/**
 * BILL-R4, a 5 kWp roof whose inverter is replaced on its serial on day 16 by one whose counter
 * reads 40,000,000 Wh: the operator records it, then the datalogger's hourly readings of the month
 * and a day either side go through the broker and ingest. Returns the month's true energy.
 */
async function replacedInverter(): Promise<{ readings: number; truthWh: number }> {
  await pool.query(`
    INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 'SIM-BILL-R4', name, province_id, latitude, longitude, 5, 5, status, now() FROM installations WHERE code = 'SIM-BILL-R2';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
      SELECT 'BILL-R4', id, 5000, 'replaced', now() FROM installations WHERE code = 'SIM-BILL-R4';`);
  const swapMs = DAYS[15]!.startMs + H / 2; // half past midnight, Tehran time: no sun
  await recordReplacement(
    pool,
    { serial: 'BILL-R4', replacedAt: new Date(swapMs), initialWh: 40_000_000, note: 'inverter swapped (test)' },
    'e2e',
  );
  const produced = (tMs: number) => {
    const hour = (((tMs - startMs) / H) % 24) + 0; // Tehran hour: the month starts at Tehran midnight
    return hour >= 7 && hour < 18 ? 1100 : 0;
  };
  const readings: { ts: number; energy_wh_total: number; ac_power_w: number; state: string }[] = [];
  let oldCounter = 1_000_000;
  let newCounter = 40_000_000;
  let truthWh = 0;
  for (let t = startMs - DAY; t <= endMs + DAY; t += H) {
    const wh = produced(t - H);
    if (t > startMs - DAY) {
      if (t <= swapMs) oldCounter += wh;
      else newCounter += wh;
      if (t > startMs && t <= endMs) truthWh += wh;
    }
    readings.push({ ts: t, energy_wh_total: t < swapMs ? oldCounter : newCounter, ac_power_w: wh, state: 'MPPT' });
  }
  // The registry reload the replacement triggered must be done before ingest judges the new counter.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (let i = 0; i < readings.length; i += 200)
    await clients[0]!.publishAsync('solar/v1/BILL-R4/telemetry', JSON.stringify(readings.slice(i, i + 200)), {
      qos: 1,
    });
  return { readings: readings.length, truthWh };
}

async function registerProgram(): Promise<void> {
  const shared = await id('SIM-BILL-S1');
  const roof1 = await id('SIM-BILL-R1');
  const roof2 = await id('SIM-BILL-R2');
  for (let n = 1; n <= 5; n++) {
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, updated_at) ` +
        `SELECT $1, $2, $3, $4, id, 'PERSON_WITH_DISABILITY', now() FROM provinces WHERE code = 'yazd'`,
      [n, nationalCodeFor(5000 + n), `Beneficiary ${n}`, shebaFor(5000 + n)],
    );
  }
  // 1 holds 5 kW all month; 2 joins on day 11; 3 leaves after day 20; 4 and 5 own a roof each.
  await pool.query(
    `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, valid_until, updated_at) VALUES
    (1, $1, 5000, '2025-01-01', NULL, now()), (2, $1, 5000, $4, NULL, now()), (3, $1, 5000, '2025-01-01', $5, now()),
    (4, $2, 5000, '2025-01-01', NULL, now()), (5, $3, 5000, '2025-01-01', NULL, now())`,
    [shared, roof1, roof2, DAYS[10]!.date, DAYS[20]!.date],
  );
  await pool.query(
    `INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, $1, 'C-S', 'SUPPORT', ` +
      `'2025-01-01'), (2, $2, 'C-R1', 'ORDINARY', '2019-01-01'), (3, $3, 'C-R2', 'ORDINARY', '2025-01-01')`,
    [shared, roof1, roof2],
  );
  // Roof 2's tariff changes on day 16; roof 1's contract is in its 8th year (stepped down).
  await pool.query(
    `INSERT INTO tariff_periods (contract_id, effective_from, effective_until, rial_per_kwh) VALUES (1, ` +
      `'2025-01-01', NULL, 30000), (2, '2019-01-01', NULL, 25000), (3, '2025-01-01', $1, 25000), (3, $1, NULL, 38500)`,
    [DAYS[15]!.date],
  );
  await pool.query(
    `INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, ` +
      `first_due_month) VALUES ($1, 'L-S', 150000000, 2000000, 84, '1405-01')`,
    [shared],
  );
}

describe('a month billed end to end', () => {
  it('bills the ground truth and reconciles to the Rial from installations to the payout file', async () => {
    const deps: BillingDeps = {
      pool,
      influx,
      log: createLogger('billing-e2e', 'silent'),
      config: {
        rules: {
          stepDowns: parseStepDowns('8:90,12:80,16:70'),
          maintenanceFee: parseMaintenanceFee('2%'),
          minimumPayoutRials: 100_000n,
        },
        adjustmentMonths: 3,
        lookaroundDays: 400,
        settlements: DEFAULT_SETTLEMENT_POLICY,
      },
    };
    const replaced = await replacedInverter();
    const planned = planFleet(scenario);
    let draft: Awaited<ReturnType<typeof runMonth>> | undefined;
    let closed: Awaited<ReturnType<typeof runMonth>> | undefined;
    const backfill = await runBackfill(planned, {
      seed: 11,
      fromMs: startMs - 6 * DAY,
      toMs: endMs + 6 * DAY,
      intervalSeconds: 300,
      clients,
      // The month is billed and closed while BILL-R3 is still silent (its buffer not yet sent).
      pauses: [
        {
          atMs: endMs + 5 * DAY - H,
          run: async (published) => {
            await waitFor(
              'every reading published so far stored',
              () => countPoints(influx, 'telemetry'),
              (n) => n === published + replaced.readings,
              120_000,
              500,
            );
            await registerProgram();
            draft = await runMonth(deps, MONTH, { actor: 'e2e' });
            closed = await runMonth(deps, MONTH, { close: true, actor: 'e2e' });
          },
        },
      ],
    });
    await waitFor(
      'every reading stored',
      () => countPoints(influx, 'telemetry'),
      (n) => n === backfill.readings + replaced.readings,
      120_000,
      500,
    );
    expect(closed!.digest).toBe(draft!.digest); // same inputs, same results

    // Energy: the simulator's truth per installation, within 1 Wh per counter epoch.
    const truth = backfill.model.truth.snapshot().inverters;
    const monthDates = new Set(DAYS.map((d) => d.date));
    const truthWh = (serials: string[]) =>
      serials.reduce(
        (sum, s) =>
          sum +
          Object.entries(truth[s]!.days)
            .filter(([d]) => monthDates.has(d))
            .reduce((a, [, wh]) => a + wh, 0),
        0,
      );
    const bills = (
      await pool.query(
        `SELECT i.code, b.* FROM installation_bills b JOIN installations i ON i.id = b.installation_id WHERE b.month = $1 ORDER BY i.code`,
        [MONTH],
      )
    ).rows;
    expect(bills.map((b) => b.code)).toEqual([
      'SIM-BILL-R1',
      'SIM-BILL-R2',
      'SIM-BILL-R3',
      'SIM-BILL-R4',
      'SIM-BILL-S1',
    ]);
    const serialsOf: Record<string, string[]> = {
      'SIM-BILL-R1': ['BILL-R1'],
      'SIM-BILL-R2': ['BILL-R2'],
      'SIM-BILL-S1': ['BILL-S1', 'BILL-S2'],
    };
    // The replaced inverter bills its month, never the new counter's 40 MWh.
    const r4 = bills.find((b) => b.code === 'SIM-BILL-R4')!;
    expect(Number(r4.energy_wh)).toBe(replaced.truthWh);
    expect(r4.detail.counters['BILL-R4'].epochs.map((e: { start: string }) => e.start)).toEqual([
      'first',
      'replacement',
    ]);
    expect(r4.implausible).toBe(false);
    // The silent one was closed with what was known then: nothing yet, flagged incomplete.
    const r3 = bills.find((b) => b.code === 'SIM-BILL-R3')!;
    expect(r3.incomplete).toBe(true);
    for (const bill of bills.filter((b) => serialsOf[b.code])) {
      const epochs = Object.values(bill.detail.counters as Record<string, { epochs: unknown[] }>).reduce(
        (n, c) => n + c.epochs.length,
        0,
      );
      expect(Math.abs(Number(bill.energy_wh) - truthWh(serialsOf[bill.code]!)), bill.code).toBeLessThanOrEqual(epochs);
      expect(Number(bill.energy_wh)).toBeGreaterThan(400_000); // a sunny month: ~150 kWh per kWp
      expect(bill.incomplete).toBe(false);
    }
    const shared = bills.find((b) => b.code === 'SIM-BILL-S1')!;
    expect(shared.detail.counters['BILL-S2'].flags.map((f: { kind: string }) => f.kind)).toEqual(['counter_reset']);
    expect(shared.detail.counters['BILL-S2'].epochs.map((e: { start: string }) => e.start)).toEqual(['first', 'reset']);
    const roof1 = bills.find((b) => b.code === 'SIM-BILL-R1')!;
    expect(
      roof1.detail.segments.map((s: { percent: number; contractYear: number }) => [s.percent, s.contractYear]),
    ).toEqual([[90, 8]]);
    const roof2 = bills.find((b) => b.code === 'SIM-BILL-R2')!;
    expect(roof2.detail.segments.map((s: { rialPerKwh: number }) => s.rialPerKwh)).toEqual([25_000, 38_500]);

    // Money: each installation's lines add up, its net goes exactly to its shares and the pool.
    const lines = (await pool.query(`SELECT * FROM statement_lines WHERE month = $1 ORDER BY share_id`, [MONTH])).rows;
    for (const bill of bills) {
      const segments = bill.detail.segments.reduce((t: bigint, s: { rials: string }) => t + BigInt(s.rials), 0n);
      expect(BigInt(bill.gross_rials)).toBe(segments);
      expect(BigInt(bill.income_rials) - BigInt(bill.loan_rials) - BigInt(bill.fee_rials)).toBe(BigInt(bill.net_rials));
      const allocated = lines
        .filter((l) => l.installation_id === bill.installation_id)
        .reduce((t, l) => t + BigInt(l.rials), 0n);
      expect(allocated + BigInt(bill.pool_rials)).toBe(BigInt(bill.net_rials));
    }
    expect(BigInt(shared.loan_rials)).toBe(7n * 2_000_000n); // Farvardin to Mehr are due, none repaid before
    expect(
      lines.filter((l) => l.installation_id === shared.installation_id).map((l) => [l.beneficiary_id, l.active_days]),
    ).toEqual([
      [1, 30],
      [2, 20],
      [3, 20],
    ]);
    const statements = (await pool.query(`SELECT * FROM statements WHERE month = $1 ORDER BY beneficiary_id`, [MONTH]))
      .rows;
    for (const s of statements) {
      const earned = lines
        .filter((l) => l.beneficiary_id === s.beneficiary_id)
        .reduce((t, l) => t + BigInt(l.rials), 0n);
      expect(BigInt(s.earned_rials)).toBe(earned);
      expect(BigInt(s.payable_rials) + BigInt(s.carried_out_rials)).toBe(earned + BigInt(s.carried_in_rials));
    }
    const month = (await pool.query(`SELECT * FROM billing_months WHERE month = $1`, [MONTH])).rows[0];
    expect(month.status).toBe('CLOSED');
    expect(BigInt(month.net_rials)).toBe(bills.reduce((t, b) => t + BigInt(b.net_rials), 0n));

    const { csv, summary } = await payoutBatch(pool, MONTH, 'e2e', { create: true });
    const rows = csv
      .trim()
      .split('\r\n')
      .slice(1)
      .map((r) => r.split(','));
    expect(rows).toHaveLength(5);
    // Once BILL-R3's buffer arrived, the next month carries its closed month's energy.
    await runMonth(deps, nextMonth, { actor: 'e2e' });
    const late = (
      await pool.query(
        `SELECT a.energy_wh FROM energy_adjustments a JOIN installations i ON i.id = a.installation_id WHERE ` +
          `a.month = $1 AND a.for_month = $2 AND i.code = 'SIM-BILL-R3'`,
        [nextMonth, MONTH],
      )
    ).rows;
    expect(late).toHaveLength(1);
    expect(Math.abs(Number(late[0].energy_wh) - truthWh(['BILL-R3']))).toBeLessThanOrEqual(1);
    expect(truthWh(['BILL-R3'])).toBeGreaterThan(400_000);
    const fileTotal = rows.reduce((t, r) => t + BigInt(r[1]!), 0n);
    expect(fileTotal).toBe(statements.reduce((t, s) => t + BigInt(s.payable_rials), 0n));
    expect(fileTotal).toBe(BigInt(month.payable_rials));
    expect(summary).toMatchObject({ rows: 5, totalRials: String(fileTotal), reconciles: true });
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5].map((n) => shebaFor(5000 + n)));
  });
});
