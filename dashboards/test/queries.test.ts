// Every query of every committed dashboard (panels and variables), run the way Grafana would run it
// against the real InfluxDB, PostgreSQL (as the read-only dashboards role) and Prometheus. The data
// comes from a simulated fleet sent through the real broker and ingest: the previous Solar Hijri
// month and this one so far, with a ground fault, heavy soiling, clipping, a counter reset, bad
// messages, and an area outage (ten installations in Khuzestan silent for the last three hours,
// their connections reported lost), one registered inverter never heard from and one whose counter
// jumps beyond its rating. The previous month is billed, closed and paid; this month is
// drafted. Each query must return data of the shape its panel needs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  importSettlements,
  loanBalances,
  markPaid,
  payoutBatch,
  readBillingConfig,
  reconcileSettlements,
  runMonth,
} from '../../billing';
import { monthBounds, monthOf, previousMonth } from '../../lib/program/solar-hijri';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import type { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { createLogger } from '../../lib/logger';
import {
  addDemoContracts,
  type PlannedInverter,
  parseScenario,
  planFleet,
  registerSimulatedFleet,
  runBackfill,
} from '../../simulators';
import {
  countPoints,
  discardIngestSession,
  env,
  fleetMqtt,
  freshInfluxDatabase,
  influxAs,
  freshPgDatabase,
  type IngestProcess,
  startIngestProcess,
  waitFor,
} from '../../testing/services';
import { type Expect, expectationOf } from '../src/grafana';
import { DASHBOARDS, jsonPath } from '../src/index';
import { interpolateSql, type QueryContext, type Selection } from '../src/interpolate';
import { allPanels, queryText } from '../src/lint';
import { defaultRange, GrafanaRunner, type Result, readerPool } from './grafana-runner';

const NAME = 'dashboards_e2e';
const H = 3_600_000;
const now = Date.now();
const thisMonth = monthOf(now);
const lastMonth = previousMonth(thisMonth);
const fromMs = monthBounds(lastMonth).startMs - 24 * H;
const outageFromMs = now - 3 * H;
const iso = (ms: number) => new Date(ms).toISOString();
const worker = `dash${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'dashboards-e2e-'));
const targetFile = join(env.PROMETHEUS_TARGETS_DIR ?? '', `dashboards-e2e-${process.pid}.json`);

const area = Array.from({ length: 10 }, (_, i) => ({
  serial: `DSH-KHZ-${i}`,
  province: 'Khuzestan',
  dcKwp: 5,
  ratedAcW: 5000,
}));
const scenario = parseScenario(
  JSON.stringify({
    seed: 13,
    inverters: [
      ...area,
      { serial: 'DSH-YZD-FAULT', province: 'Yazd', dcKwp: 5, ratedAcW: 5000 },
      { serial: 'DSH-YZD-SOIL', province: 'Yazd', dcKwp: 5, ratedAcW: 5000 },
      { serial: 'DSH-YZD-OK', province: 'Yazd', dcKwp: 5, ratedAcW: 5000 },
      { serial: 'DSH-YZD-CLIP', province: 'Yazd', dcKwp: 6.5, ratedAcW: 5000 },
      { serial: 'DSH-FRS-RESET', province: 'Fars', dcKwp: 5, ratedAcW: 5000, initialCounterWh: 2_000_000 },
      { serial: 'DSH-THR-BAD', province: 'Tehran', dcKwp: 5, ratedAcW: 5000 },
      // Registered but never heard from (not yet connected): billed as incomplete, no_readings.
      { serial: 'DSH-KRM-SILENT', province: 'Kerman', dcKwp: 5, ratedAcW: 5000 },
      // Its counter jumps by 50 MWh at the end (a faulty datalogger): held as implausible.
      { serial: 'DSH-KRM-JUMP', province: 'Kerman', dcKwp: 5, ratedAcW: 5000 },
    ],
    faults: [
      { serial: 'DSH-YZD-FAULT', kind: 'ground_fault', from: iso(now - 30 * H), until: iso(now + 24 * H) },
      { serial: 'DSH-YZD-SOIL', kind: 'heavy_soiling', from: iso(fromMs), until: iso(now + 24 * H), factor: 0.6 },
      { serial: 'DSH-FRS-RESET', kind: 'counter_reset', from: iso(now - 5 * 24 * H) },
      { serial: 'DSH-THR-BAD', kind: 'malformed_messages', from: iso(now - 2 * H), until: iso(now - H) },
    ],
  }),
  'dashboards scenario',
);

let pool: pg.Pool;
let reader: pg.Pool;
let grafana: GrafanaRunner;
let influx: InfluxClient;
let ingest: IngestProcess;
let clients: MqttClient[];

async function backfill(planned: PlannedInverter[], toMs: number): Promise<number> {
  const result = await runBackfill(planned, { seed: 13, fromMs, toMs, intervalSeconds: 900, clients });
  return result.readings;
}

/** Beneficiaries with shares on the Yazd roofs, so statements, payouts and "people with income" exist. */
async function registerBeneficiaries(): Promise<void> {
  const codes = ['SIM-DSH-YZD-OK', 'SIM-DSH-YZD-SOIL', 'SIM-DSH-YZD-FAULT', 'SIM-DSH-YZD-CLIP'];
  for (const [n, code] of codes.entries()) {
    await pool.query(
      `INSERT INTO beneficiaries (national_code, full_name, sheba, province_id, target_group, updated_at)
       SELECT $1, $2, $3, id, 'WOMAN_HEAD_OF_HOUSEHOLD', now() FROM provinces WHERE code = 'yazd'`,
      [nationalCodeFor(7100 + n), `Dashboard test ${n}`, shebaFor(7100 + n)],
    );
    await pool.query(
      `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at)
       SELECT b.id, i.id, 5000, '2025-01-01', now() FROM beneficiaries b, installations i
       WHERE b.national_code = $1 AND i.code = $2`,
      [nationalCodeFor(7100 + n), code],
    );
  }
  // A plant loan repaid from the first roof's income from last month on: the Billing dashboard's loans.
  await pool.query(
    `INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, first_due_month)
     SELECT id, 'DSH-LOAN-1', 5000000, 1000000, 5, $1 FROM installations WHERE code = 'SIM-DSH-YZD-OK'`,
    [lastMonth],
  );
}

/**
 * Alerts as the alert engine records them for this fleet's faults (its own tests prove how it
 * raises them; the dashboards only read its table): the area outage, the ground fault and the
 * soiled roof, and one fault already closed.
 */
async function recordAlerts(): Promise<void> {
  const rows: [string, string, string, string, string | null, string, number, number, number, boolean][] = [
    [
      'AREA_OUTAGE',
      'grid_or_telecom',
      'MAJOR',
      'khuzestan',
      null,
      '10 installations silent together',
      10,
      250,
      7_500_000,
      true,
    ],
    ['FAULT', 'GROUND_FAULT', 'MAJOR', 'yazd', 'SIM-DSH-YZD-FAULT', 'Ground fault', 1, 25, 750_000, true],
    ['UNDERPERFORMING', 'soiling', 'MINOR', 'yazd', 'SIM-DSH-YZD-SOIL', 'Yield 40 % below peers', 1, 10, 300_000, true],
    ['FAULT', 'GROUND_FAULT', 'MAJOR', 'yazd', 'SIM-DSH-YZD-FAULT', 'Ground fault (earlier)', 1, 20, 600_000, false],
  ];
  for (const [
    n,
    [rule, cause, severity, province, installation, summary, affected, kwh, rials, open],
  ] of rows.entries())
    await pool.query(
      `INSERT INTO alerts (key, rule, cause, severity, state, installation_id, province_id, area, affected_installations,
         summary, lost_kwh_per_day, lost_rials_per_day, detail, opened_at, last_seen_at, closed_at, closed_by, updated_at)
       SELECT $1, $2::alert_rule, $3, $4::alert_severity, $5::alert_state, i.id, p.id, CASE WHEN i.id IS NULL THEN p.name_en END, $6,
         $7, $8, $9, '{}', now() - interval '2 hours' * ($10 + 1), now(), CASE WHEN $5 = 'CLEARED' THEN now() END,
         CASE WHEN $5 = 'CLEARED' THEN 'system' END, now()
       FROM provinces p LEFT JOIN installations i ON i.code = $11 WHERE p.code = $12`,
      [
        `test-${n}`,
        rule,
        cause,
        severity,
        open ? 'OPEN' : 'CLEARED',
        affected,
        summary,
        kwh,
        rials,
        n,
        installation,
        province,
      ],
    );
}

beforeAll(async () => {
  const databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  const planned = planFleet(scenario);
  await registerSimulatedFleet(planned, databaseUrl);
  await addDemoContracts(planned, databaseUrl);
  await registerBeneficiaries();
  ingest = await startIngestProcess({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    INGEST_SHARE_GROUP: `dash-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  writeFileSync(targetFile, JSON.stringify([{ targets: [`127.0.0.1:${ingest.port}`], labels: { worker } }]));
  const fleetAccount = fleetMqtt();
  clients = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      mqtt.connectAsync(fleetAccount.url, {
        username: fleetAccount.username,
        password: fleetAccount.password,
        clientId: `dash-e2e-${process.pid}-${i}`,
      }),
    ),
  );
  const inArea = (p: PlannedInverter) => p.spec.serial.startsWith('DSH-KHZ-');
  const silent = (p: PlannedInverter) => p.spec.serial === 'DSH-KRM-SILENT';
  const readings =
    (await backfill(
      planned.filter((p) => !inArea(p) && !silent(p)),
      now,
    )) + (await backfill(planned.filter(inArea), outageFromMs));
  // The area's dataloggers lost their connections when the outage began: the broker publishes their last will.
  for (const { serial } of area) await clients[0]!.publishAsync(`solar/v1/${serial}/status`, 'offline', { qos: 1 });
  await waitFor(
    'every valid reading stored',
    async () => {
      if (ingest.child.exitCode !== null) throw new Error(`ingest exited: ${ingest.output()}`);
      return countPoints(influx, 'telemetry');
    },
    (n) => n === readings,
    180_000,
    500,
  );
  // The jump: ingest now refuses a counter that rises beyond the rating, so the readings that stay
  // 50 MWh above the last one are written straight into InfluxDB, as data stored before that check
  // existed would be (billing's own test holds counters the same way). Six of them: billing believes
  // a jump only once the counter stays at its new level (billing/README.md), else it is a glitch.
  const [last] = await influx.rows(`SELECT last("energy_wh_total") FROM "telemetry" WHERE "serial" = 'DSH-KRM-JUMP'`);
  const jumped = Number(last!.last) + 50_000_000;
  const at = Date.now();
  const tags = 'telemetry,installation=SIM-DSH-KRM-JUMP,province=kerman,serial=DSH-KRM-JUMP';
  await influx.write(
    Array.from({ length: 6 }, (_, i) => at - (5 - i) * 1_000)
      .map((t, i) => `${tags} energy_wh_total=${jumped + i},ac_power_w=0,state="SLEEPING" ${t * 1e6}`)
      .join('\n'),
  );
  await waitFor(
    'the area outage recorded',
    () => countPoints(influx, 'device_status'),
    (n) => n === area.length,
  );
  await rebuildRollups(influx, fromMs - 2 * 24 * H, now + H);

  const billing = {
    pool,
    influx,
    log: createLogger('dashboards-e2e', 'silent'),
    config: readBillingConfig({ ...env, DATABASE_URL: databaseUrl }),
  };
  await runMonth(billing, lastMonth, { close: true, actor: 'dashboards-e2e' });
  await payoutBatch(pool, lastMonth, 'dashboards-e2e', { create: true });
  await markPaid(pool, lastMonth, 'dashboards-e2e');
  await runMonth(billing, thisMonth, { actor: 'dashboards-e2e' });
  await recordAlerts();
  // The distribution company settled last month for two Yazd roofs: one paid, one not; one meter reads
  // almost nothing, so the Cash position's list of disagreements has a row.
  const period = `${lastMonth}-01,${lastMonth}-${monthBounds(lastMonth).days}`;
  const settled = await importSettlements(
    pool,
    `installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on\nSIM-DSH-YZD-OK,` +
      `${period},500,15000000,DSH-1,${thisMonth}-01\nSIM-DSH-YZD-SOIL,${period},1,30000,DSH-2,`,
    { dryRun: false, actor: 'dashboards-e2e' },
  );
  expect(settled.errors).toEqual([]);
  await reconcileSettlements({
    pool,
    influx,
    policy: billing.config.settlements,
    stepDowns: billing.config.rules.stepDowns,
    lookaroundDays: billing.config.lookaroundDays,
    log: billing.log,
  });

  // Grafana reads PostgreSQL as the dashboards' read-only role.
  reader = await readerPool(databaseUrl);
  // As the provisioned datasources: InfluxDB's reader (SOLAR_INFLUX_READER_*), PostgreSQL's read-only role.
  grafana = new GrafanaRunner(influxAs('READER', NAME), reader, env.PROMETHEUS_URL);

  // Prometheus has scraped the worker at least twice since it finished (rate() needs two samples).
  await waitFor(
    'Prometheus to scrape the ingest worker',
    () => grafana.promQuery(`count_over_time(up{job="ingest", worker="${worker}"}[1m])`, now, Date.now()),
    (r) => r.some((s) => s.values.length > 0 && Number(s.values.at(-1)![1]) >= 3),
    60_000,
    1_000,
  );
}, 600_000);

afterAll(async () => {
  rmSync(targetFile, { force: true });
  await Promise.all((clients ?? []).map((c) => c.endAsync()));
  await ingest?.stop();
  await discardIngestSession(worker);
  await reader?.end();
  await pool?.end();
  rmSync(dataDir, { recursive: true, force: true });
});

function checkShape(result: Result, expect_: Expect, what: string): void {
  if (expect_.mayBeEmpty && result.rows === 0) return;
  expect(result.rows, `${what}: returned no data`).toBeGreaterThan(0);
  if (expect_.shape === 'value') {
    expect(result.rows, `${what}: one value expected`).toBe(1);
    expect(
      result.values.some(
        (v) => typeof v === 'number' || (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))),
      ),
      `${what}: a number`,
    ).toBe(true);
  } else if (expect_.shape === 'series') {
    expect(result.series, `${what}: series`).toBeGreaterThanOrEqual(expect_.minSeries ?? 1);
    expect(
      result.values.some((v) => v !== null),
      `${what}: all values null`,
    ).toBe(true);
  } else {
    for (const c of expect_.columns) expect([...result.columns], `${what}: column ${c}`).toContain(c);
    expect(result.rows, `${what}: rows`).toBeGreaterThanOrEqual(expect_.minRows ?? 1);
  }
}

/** Choices a person would make in this test fleet; other variables take Grafana's default. */
const CHOICES: Record<string, string[]> = { installation: ['SIM-DSH-YZD-FAULT'] };

describe('every dashboard query on a simulated fleet', () => {
  // Building the dashboards registers what each query is expected to return.
  for (const spec of DASHBOARDS) spec.build();
  for (const spec of DASHBOARDS) {
    it(`${spec.uid}: variables and panels return data of the expected shape`, async () => {
      const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'json', jsonPath(spec)), 'utf8'));
      const range = defaultRange(dashboard);
      const { variables, results } = await grafana.resolveVariables(dashboard, range, CHOICES);
      for (const { name, text, result } of results) {
        const spec = expectationOf(text);
        expect(spec, `$${name}: generated by the dashboards' code`).toBeDefined();
        checkShape(result, spec!.expect, `$${name}`);
      }
      let queries = 0;
      for (const { panel, target, kind, text, ctx } of grafana.panelQueries(dashboard, range, variables)) {
        const known = expectationOf(text);
        expect(known, `${panel.title} ${target.refId}: generated by the dashboards' code`).toBeDefined();
        expect(known!.kind).toBe(kind);
        const result = await grafana.run(kind, text, ctx).catch((error: Error) => {
          throw new Error(`${spec.uid} "${panel.title}" ${target.refId}: ${error.message}`);
        });
        checkShape(result, known!.expect, `${spec.uid} "${panel.title}" ${target.refId}`);
        queries += 1;
      }
      expect(queries).toBeGreaterThan(3);
    });
  }

  it('shows the faults: the area outage offline, the ground fault faulted, the soiled roof below its peers, alerts by income at risk', async () => {
    const range = { fromMs: now - 7 * 24 * H, toMs: Date.now() };
    const variables = new Map<string, Selection>([
      ['province', { values: ['khuzestan', 'yazd', 'fars', 'tehran'], multi: true, includeAll: true }],
    ]);
    const ctx: QueryContext = { range, intervalMs: 60_000, variables };
    const fleet = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'json', 'Operations/solar-fleet.json'), 'utf8'),
    );
    const states = allPanels(fleet).find((p) => p.title === 'Inverters by state')!;
    const count = async (refId: string) =>
      (await grafana.run('influx', queryText(states.targets!.find((t) => t.refId === refId)!), ctx)).values[0];
    expect(await count('E')).toBe(area.length); // offline
    expect(await count('D')).toBe(1); // faulted
    const soiled = await influx.rows(
      `SELECT sum("wh") FROM (SELECT non_negative_difference(last("energy_wh_total")) AS "wh" FROM ` +
        `"daily"."telemetry" WHERE time > ${range.fromMs}ms AND "province" = 'yazd' GROUP BY time(1d, 1230m), "serial") GROUP BY "serial"`,
    );
    const energy = new Map(soiled.map((r) => [String(r.serial), Number(r.sum)]));
    expect(energy.get('DSH-YZD-SOIL')! / energy.get('DSH-YZD-OK')!).toBeCloseTo(0.6, 1);
    const billingJson = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'json', 'Program/solar-billing.json'), 'utf8'),
    );
    const incomplete = allPanels(billingJson).find((p) => p.title === 'Installations with incomplete data')!;
    const monthCtx = {
      ...ctx,
      variables: new Map([['month', { values: [lastMonth], multi: false, includeAll: false }]]),
    };
    const lastMonthIncomplete = await reader.query(interpolateSql(queryText(incomplete.targets![0]!), monthCtx));
    expect(lastMonthIncomplete.rows.map((r) => [r.Installation, r.Reasons])).toEqual([
      ['SIM-DSH-KRM-SILENT', 'no_readings'],
    ]);
    const held = allPanels(billingJson).find((p) => p.title === 'Held installations (implausible counters)')!;
    const thisMonthCtx = {
      ...ctx,
      variables: new Map([['month', { values: [thisMonth], multi: false, includeAll: false }]]),
    };
    const heldRows = await reader.query(interpolateSql(queryText(held.targets![0]!), thisMonthCtx));
    expect(heldRows.rows.map((r) => [r.Installation, r.Why])).toEqual([
      ['SIM-DSH-KRM-JUMP', 'DSH-KRM-JUMP: counter_jump'],
    ]);
    expect(Number(heldRows.rows[0]!['Energy held'])).toBeGreaterThan(49_000);
    const ranked = allPanels(fleet).find((p) => p.title === 'Open alerts ranked by income at risk')!;
    const alerts = await reader.query(interpolateSql(queryText(ranked.targets![0]!), ctx));
    expect(alerts.rows.map((r) => [r.Rule, r['Installation or area']])).toEqual([
      ['AREA_OUTAGE', 'Khuzestan'],
      ['FAULT', 'SIM-DSH-YZD-FAULT'],
      ['UNDERPERFORMING', 'SIM-DSH-YZD-SOIL'],
    ]);
  });
  it("shows each loan's balance as billing computes it (GET /loans): repaid by the closed month, not by the draft", async () => {
    const billingJson = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'json', 'Program/solar-billing.json'), 'utf8'),
    );
    const panel = allPanels(billingJson).find((p) => p.title === 'Loans: repaid and balance')!;
    const ctx: QueryContext = {
      range: { fromMs: now - 24 * H, toMs: Date.now() },
      intervalMs: 60_000,
      variables: new Map(),
    };
    const { rows } = await reader.query(interpolateSql(queryText(panel.targets![0]!), ctx));
    const { rows: loans } = await pool.query(`SELECT id FROM loans WHERE reference = 'DSH-LOAN-1'`);
    const billed = (await loanBalances(pool, [loans[0].id])).get(loans[0].id)!;
    expect(rows.map((r) => [r.Loan, String(r.Repaid), String(r.Balance), r['Last repaid in']])).toEqual([
      ['DSH-LOAN-1', String(billed.repaidRials), String(billed.balanceRials), lastMonth],
    ]);
    expect(billed.repaidRials).toBe(1_000_000n); // last month's installment; this month's draft repays nothing yet
  });
});
