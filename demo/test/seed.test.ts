// The demo seed against the real services (a small program: 8 installations, half-hourly history):
// three past months closed with statements that add up to the Rial, the oldest paid and reconciled,
// the late flush recognised as an adjustment, the running month drafted to date, demo people able to
// sign in and read their statements, the history's alerts opened and closed at their place in it;
// then what npm start does next (the live fleet, the alerts job's first evaluation) gives a
// technician's first GET /alerts ranked income at risk; a second run changes nothing.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { ensureFleetAccount } from '../../lib/mqtt/service-accounts';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { hashSecret } from '../../lib/passwords';
import { monthBounds } from '../../lib/program/solar-hijri';
import { readBillingConfig } from '../../billing';
import { payoutBatch } from '../../billing';
import { AlertsEvaluator, readAlertsConfig } from '../../alerts';
import { parseScenario, planFleet, runBackfill, storedCounters } from '../../simulators';
import { bearer, staffToken, testApp } from '../../testing/api';
import {
  countPoints,
  discardIngestSession,
  freshInfluxDatabase,
  influxAs,
  freshPgDatabase,
  startIngestProcess,
  type IngestProcess,
} from '../../testing/services';
import { rebuildDemoRollups, seedDemo, type SeedDeps, type SeedResult } from '../src/seed';

const NAME = 'demo_seed';
const worker = `demo${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'demo-seed-'));
let pool: pg.Pool;
let influx: InfluxClient;
let ingest: IngestProcess;
let databaseUrl: string;
let deps: SeedDeps;
const lines: string[] = [];
const options = {
  installations: 8,
  intervalSeconds: 1800,
  fleetFile: join(dir, 'fleet.json'),
  loginsFile: join(dir, 'logins.json'),
};

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  ingest = await startIngestProcess({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    INGEST_SHARE_GROUP: `demo-${process.pid}`,
    INGEST_DATA_DIR: join(dir, 'ingest'),
    INGEST_WORKER_ID: worker,
  });
  const alertsConfig = readAlertsConfig({ ...process.env, DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
  deps = {
    pool,
    // As npm run demo -- seed: notifying nobody of the history.
    alerts: new AlertsEvaluator(
      pool,
      influxAs('READER', NAME),
      { ...alertsConfig, notifications: { ...alertsConfig.notifications, emailTo: [], webhookUrls: [] } },
      createLogger('demo-test-alerts', 'silent'),
    ),
    influx: influxAs('READER', NAME), // as npm run demo -- seed: the reader
    ensureFleetAccount: async () => void (await ensureFleetAccount(process.env)),
    billing: readBillingConfig({ ...process.env, BILLING_CLOSE_DAY: '5' }),
    fleetMqtt: readMqttConfig(process.env, 'FLEET'),
    hashPin: hashSecret,
    ingestHealthUrl: `http://127.0.0.1:${ingest.port}/healthz`,
    log: createLogger('demo-test', 'silent'),
    progress: (line) => lines.push(line),
    // The history ends half an hour ago, as when npm start's live fleet takes over: the live test
    // below publishes the last 20 minutes, which must not fall between stored readings (a counter
    // continued from the newest reading, stamped before it, is one no inverter produced).
    now: () => Date.now() - 30 * 60_000,
  };
});

afterAll(async () => {
  await ingest?.stop();
  await discardIngestSession(worker);
  await pool?.end();
  rmSync(dir, { recursive: true, force: true });
});

/** Everything a run could change: the ledger's digests and every table's row count, and the stored readings. */
async function fingerprint(): Promise<unknown> {
  const months = await pool.query(`SELECT month, status, digest FROM billing_months ORDER BY month`);
  const counts = await pool.query(`SELECT
    (SELECT count(*) FROM installations) AS installations, (SELECT count(*) FROM beneficiaries) AS beneficiaries,
    (SELECT count(*) FROM shares) AS shares, (SELECT count(*) FROM contracts) AS contracts, (SELECT count(*) FROM loans) AS loans,
    (SELECT count(*) FROM statements) AS statements, (SELECT count(*) FROM payout_batches) AS payouts,
    (SELECT count(*) FROM audit_log) AS audit`);
  return { months: months.rows, counts: counts.rows[0], readings: await countPoints(influx, 'telemetry') };
}

// A busy machine: the seed replays three months and evaluates the alerts at its incidents.
describe('the demo seed', { timeout: 300_000 }, () => {
  let first: SeedResult;

  it('seeds a living program: past months closed and adding up, the oldest paid, this month so far', async () => {
    first = await seedDemo(deps, options);
    expect(first.skipped).toBe(false);
    expect(lines.some((l) => l.startsWith('backfill: 100 %'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('billing: ')).length).toBe(5);

    const months = (await pool.query(`SELECT * FROM billing_months ORDER BY month`)).rows;
    expect(months.map((m) => m.status)).toEqual(['PAID', 'CLOSED', 'CLOSED', 'DRAFT']);
    const people = (await pool.query<{ id: number }>('SELECT id FROM beneficiaries')).rows.length;
    for (const m of months) {
      const sums = (
        await pool.query(
          `SELECT sum(gross_rials) AS gross, sum(adjustment_rials) AS adjustments, sum(income_rials) AS income,
                  sum(loan_rials) AS loans, sum(fee_rials) AS fees, sum(pool_rials) AS pool, sum(net_rials) AS net,
                  bool_or(balance_out_rials <> 0) AS carried
             FROM installation_bills WHERE month = $1`,
          [m.month],
        )
      ).rows[0];
      const statements = (
        await pool.query(
          `SELECT count(*)::int AS n, sum(earned_rials) AS earned, sum(payable_rials) AS payable,
                  sum(carried_in_rials) AS carried_in, sum(carried_out_rials) AS carried_out FROM statements WHERE month = $1`,
          [m.month],
        )
      ).rows[0];
      expect(statements.n, m.month).toBeGreaterThan(people / 2);
      expect(BigInt(sums.gross), m.month).toBe(BigInt(m.gross_rials));
      expect(BigInt(m.energy_wh), m.month).toBeGreaterThan(0n);
      expect(BigInt(m.gross_rials), m.month).toBeGreaterThan(0n);
      expect(sums.carried, m.month).toBe(false);
      // Σ statements + pool + deductions = the month's gross (with its late-data adjustments).
      expect(BigInt(statements.earned) + BigInt(sums.pool) + BigInt(sums.loans) + BigInt(sums.fees), m.month).toBe(
        BigInt(m.gross_rials) + BigInt(sums.adjustments),
      );
      expect(BigInt(statements.payable) + BigInt(statements.carried_out)).toBe(
        BigInt(statements.earned) + BigInt(statements.carried_in),
      );
      expect(BigInt(statements.payable)).toBe(BigInt(m.payable_rials));
      expect(BigInt(sums.loans), m.month).toBeGreaterThan(0n);
    }
    // The running month: energy and income to date (the sun has been up since it began).
    const running = months[3]!;
    expect(Date.now() - monthBounds(running.month).startMs).toBeGreaterThan(86_400_000);
    expect(Number(running.energy_wh)).toBeGreaterThan(0);
    expect(running.to_date_at).not.toBeNull();
    expect(running.incomplete).toBe(0);
    expect(months.slice(0, 3).map((m) => m.to_date_at)).toEqual([null, null, null]);

    const { summary } = await payoutBatch(pool, months[0]!.month, 'test', { create: false });
    expect(summary).toMatchObject({ status: 'PAID', reconciles: true });
    expect(summary.withheld.beneficiaries).toBeGreaterThanOrEqual(0);

    // The late flush: 1405-06's missing days arrived after it closed, recognised in the next month.
    const adjustment = (
      await pool.query(
        `SELECT a.*, i.code FROM energy_adjustments a JOIN installations i ON i.id = a.installation_id WHERE a.for_month = $1`,
        [months[0]!.month],
      )
    ).rows;
    expect(adjustment.map((a) => [a.code, a.month])).toEqual([['DEMO-0001', months[1]!.month]]);
    expect(Number(adjustment[0].energy_wh)).toBeGreaterThan(1000);
    // The counter reset and the outage are in the ledger's detail.
    const detail = async (month: string, code: string) =>
      (
        await pool.query(
          `SELECT b.detail, b.energy_wh FROM installation_bills b JOIN installations i ON i.id = b.installation_id WHERE b.month = $1 AND i.code = $2`,
          [month, code],
        )
      ).rows[0];
    const reset = await detail(months[2]!.month, 'DEMO-0003');
    expect(reset.detail.counters['DEMO-INV-0003'].flags.map((f: { kind: string }) => f.kind)).toContain(
      'counter_reset',
    );

    // Dataloggers sleep at night: after the first reading of the night, nothing until morning.
    const night = monthBounds(months[1]!.month).startMs; // Tehran midnight
    const nightly = await influx.rows(
      `SELECT count("energy_wh_total") FROM "raw"."telemetry" WHERE "serial" = 'DEMO-INV-0002' AND time >= ${night}ms AND time < ${night + 4 * 3_600_000}ms`,
    );
    expect(Number(nightly[0]?.count ?? 0)).toBeLessThanOrEqual(1);

    // The rollups (dashboards) over the history, once.
    // As npm run demo -- rollups: SELECT ... INTO needs the admin.
    expect(await rebuildDemoRollups({ ...deps, influx })).toBe('rebuilt');
    expect(await rebuildDemoRollups({ ...deps, influx })).toBe('done before');
    const hourly = await influx.rows(
      `SELECT count("energy_wh_total") FROM "hourly"."telemetry" WHERE time >= ` +
        `${monthBounds(months[0]!.month).startMs}ms AND time < ${monthBounds(months[0]!.month).endMs}ms`,
    );
    expect(Number(hourly[0]?.count ?? 0)).toBeGreaterThan(8 * 31 * 10); // daylight hours of 8 inverters

    // The history's alerts, opened and closed at their place in it (notifying nobody): the ground
    // fault on the shared plant, and the late flush's silence, closed when its buffer arrived.
    const history = (
      await pool.query(
        `SELECT a.rule::text, a.cause, a.state::text, i.code, a.opened_at, a.closed_at FROM alerts a
           JOIN installations i ON i.id = a.installation_id ORDER BY a.opened_at`,
      )
    ).rows;
    const closedIn = (rule: string, code: string) =>
      history.find((a) => a.rule === rule && a.code === code && a.state === 'CLEARED');
    expect(closedIn('FAULT', 'DEMO-0004'), JSON.stringify(history)).toMatchObject({ cause: 'ground_fault' });
    const silence = closedIn('OFFLINE', 'DEMO-0001');
    expect(silence, JSON.stringify(history)).toBeDefined();
    expect(silence.closed_at.getTime() - silence.opened_at.getTime()).toBeGreaterThan(2 * 86_400_000);
    for (const a of history) {
      expect(a.opened_at.getTime()).toBeGreaterThanOrEqual(monthBounds(months[0]!.month).startMs);
      expect(a.closed_at?.getTime() ?? 0).toBeLessThan(monthBounds(months[3]!.month).startMs);
    }
    expect(lines.find((l) => l.startsWith('alerts: evaluated'))).toMatch(/: [1-9]\d* opened, [1-9]\d* closed$/);
    expect((await pool.query('SELECT count(*)::int AS n FROM alert_notifications')).rows[0].n).toBe(0);

    // Stored counters, from which the live fleet continues: one per inverter.
    const counters = await storedCounters(influx);
    expect([...counters.keys()].filter((s) => s.startsWith('DEMO-INV-')).length).toBe(8);
  });

  it('prints logins that work: a demo beneficiary signs in and reads four statements', async () => {
    const logins = JSON.parse(readFileSync(options.loginsFile, 'utf8'));
    expect(logins).toEqual(first.logins);
    expect(statSync(options.loginsFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(options.fleetFile, 'utf8')).inverters).toHaveLength(8);
    const app = await testApp({ DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
    try {
      for (const login of logins) {
        const signIn = await app.inject({
          method: 'POST',
          url: '/auth/beneficiary/sign-in',
          payload: { nationalCode: login.nationalCode, pin: login.pin },
        });
        expect(signIn.statusCode, signIn.body).toBe(200);
        const statements = await app.inject({
          method: 'GET',
          url: '/me/statements',
          headers: { authorization: `Bearer ${signIn.json().token}` },
        });
        expect(statements.statusCode).toBe(200);
        const list = statements.json() as { month: string; toDateAt: string | null }[];
        expect(list).toHaveLength(4);
        // Newest first: the running month, to date, then three whole months.
        expect(list.map((s) => s.toDateAt !== null)).toEqual([true, false, false, false]);
      }
    } finally {
      await app.close();
    }
  });

  it("gives npm start's first GET /alerts something to act on, at any hour: the live fleet's faults, ranked by income at risk", async () => {
    // What npm start runs after the seed: the live fleet from fleet.json, its counters continuing
    // from storage (--continue-counters), here its last 20 minutes at 5-minute steps, then the
    // alerts job's first evaluation, then a technician's list.
    const scenario = parseScenario(readFileSync(options.fleetFile, 'utf8'), 'fleet.json');
    const stored = await storedCounters(influx);
    for (const inverter of scenario.inverters)
      inverter.initialCounterWh = stored.get(inverter.serial) ?? inverter.initialCounterWh;
    const toMs = Math.floor(Date.now() / 300_000) * 300_000;
    const fromMs = toMs - 20 * 60_000;
    const client = await mqtt.connectAsync(deps.fleetMqtt.url, {
      username: deps.fleetMqtt.username,
      password: deps.fleetMqtt.password,
      clientId: `demo-live-${process.pid}`,
    });
    try {
      // The real-time fleet reports day and night (backfill's quietAtNight is for history).
      const { readings } = await runBackfill(planFleet(scenario), {
        seed: scenario.seed ?? 1,
        fromMs,
        toMs,
        intervalSeconds: 300,
        clients: [client],
      });
      const where = `time > ${fromMs}ms AND time <= ${toMs}ms`;
      for (let waited = 0; (await countPoints(influx, 'telemetry', where)) < readings; waited += 200) {
        expect(waited).toBeLessThan(60_000);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await client.endAsync();
    }
    const config = readAlertsConfig({ ...process.env, DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
    const report = await new AlertsEvaluator(pool, influxAs('READER', NAME), config, deps.log).evaluateOnce(toMs);
    expect(report.opened).toBeGreaterThanOrEqual(2);

    const app = await testApp({ DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME });
    try {
      const technician = await staffToken(app, 'demo-technician', 'TECHNICIAN', databaseUrl);
      const list = async (query: string) => {
        const r = await app.inject({ method: 'GET', url: `/alerts${query}`, headers: bearer(technician) });
        expect(r.statusCode, r.body).toBe(200);
        return r.json().items as { rule: string; cause: string; installation: string; lostRialsPerDay: string }[];
      };
      const active = await list('');
      const faults = active.filter((a) => a.rule === 'FAULT').map((a) => a.installation);
      expect(faults.sort()).toEqual(['DEMO-0007', 'DEMO-0008']);
      // Ranked by income at risk, the faults' known.
      const rials = active.map((a) => BigInt(a.lostRialsPerDay));
      expect([...rials].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(rials);
      for (const a of active.filter((x) => x.rule === 'FAULT')) expect(BigInt(a.lostRialsPerDay)).toBeGreaterThan(0n);
      // The history is there too, for whoever looks back.
      expect((await list('?state=closed')).map((a) => `${a.rule} ${a.installation}`)).toEqual(
        expect.arrayContaining(['FAULT DEMO-0004', 'OFFLINE DEMO-0001']),
      );
    } finally {
      await app.close();
    }
  });

  it('a second run changes nothing', async () => {
    const before = await fingerprint();
    const again = await seedDemo(deps, options);
    expect(again.skipped).toBe(true);
    expect(again.seconds).toBeLessThan(5);
    expect(await fingerprint()).toEqual(before);
  });
});
