// Alerts end to end: a simulated fleet with injected outages, a fault and heavy soiling is
// backfilled through the real broker and ingest into InfluxDB; the evaluator runs at chosen
// instants against it and the real PostgreSQL; notifications go to a real SMTP server and a real
// HTTP webhook receiver on loopback.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { createLogger } from '../../lib/logger';
import {
  addDemoContracts,
  parseScenario,
  planFleet,
  registerSimulatedFleet,
  runBackfill,
} from '../../simulators/index';
import {
  countPoints,
  discardIngestSession,
  connectFleetClient,
  freshInfluxDatabase,
  freshPgDatabase,
  startIngestProcess,
  waitFor,
  type IngestProcess,
} from '../../testing/services';
import { recordReplacement } from '../../billing/index';
import { readAlertsConfig } from '../src/config';
import { AlertsEvaluator } from '../src/evaluator';
import { Deliverer } from '../src/notify';

const DATABASE = 'test_alerts';
const FROM = '2026-06-11T20:30:00Z'; // 1405-03-22 00:00 Tehran
const TO = '2026-06-21T12:00:00Z';
const at = (iso: string) => Date.parse(iso);
const AREA = Array.from({ length: 40 }, (_, k) => `AR-${String(k + 1).padStart(2, '0')}`);
const ISF = Array.from({ length: 8 }, (_, k) => `IS-${k + 1}`);
const TARIFF = 30_000; // addDemoContracts' Rial/kWh

const scenario = parseScenario(
  JSON.stringify({
    seed: 11,
    intervalSeconds: 300,
    inverters: [
      ...AREA.map((serial) => ({ serial, province: 'Yazd', dcKwp: 5, ratedAcW: 5000 })),
      ...ISF.map((serial) => ({ serial, province: 'Isfahan', dcKwp: 5, ratedAcW: 5000 })),
    ],
    faults: [
      // Noon in Tehran is about 08:30 UTC; midnight 20:30 UTC.
      ...AREA.map((serial) => ({
        serial,
        kind: 'power_outage',
        from: '2026-06-21T07:30:00Z',
        until: '2026-06-21T09:30:00Z',
      })),
      { serial: 'IS-1', kind: 'power_outage', from: '2026-06-21T07:30:00Z', until: '2026-06-21T09:30:00Z' },
      { serial: 'IS-2', kind: 'power_outage', from: '2026-06-20T20:00:00Z', until: '2026-06-20T23:00:00Z' },
      { serial: 'IS-3', kind: 'heavy_soiling', from: FROM, factor: 0.5 },
      { serial: 'IS-4', kind: 'ground_fault', from: '2026-06-21T05:00:00Z', until: '2026-06-21T06:00:00Z' },
      // Dead but reporting: STANDBY, 0 W, counter flat, from 07:00 to 08:30 Tehran.
      { serial: 'IS-6', kind: 'not_producing', from: '2026-06-21T03:30:00Z', until: '2026-06-21T05:00:00Z' },
    ],
  }),
  'alerts scenario',
);

let influx: InfluxClient;
let ingest: IngestProcess;
let clients: MqttClient[];
let pool: pg.Pool;
let evaluator: AlertsEvaluator;
let newEvaluator: () => AlertsEvaluator;
let deliverer: Deliverer;
let smtp: SMTPServer;
let hook: Server;
let truth: Record<string, { days: Record<string, number> }>;
const mails: { subject: string; alert: string; notification: string }[] = [];
const hooks: { alert: { id: string; notification: string; sequence: number } }[] = [];
let hookFailuresLeft = 2;
const dataDir = mkdtempSync(join(tmpdir(), 'alerts-test-'));
const worker = `alerts${process.pid}`;

async function listen(server: { listen: (port: number, host: string) => unknown }, address: () => AddressInfo) {
  server.listen(0, '127.0.0.1');
  await once(server as unknown as NodeJS.EventEmitter, 'listening');
  return address().port;
}

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
  const databaseUrl = await freshPgDatabase('test_alerts');
  ingest = await startIngestProcess({
    INFLUX_DATABASE: DATABASE,
    DATABASE_URL: databaseUrl,
    INGEST_SHARE_GROUP: `alerts-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
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
        const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(raw)?.[1]?.trim() ?? '';
        mails.push({
          subject: header('Subject'),
          alert: header('X-Solar-Alert'),
          notification: header('X-Solar-Notification'),
        });
        callback();
      });
    },
  });
  const smtpPort = await listen(smtp.server, () => smtp.server.address() as AddressInfo);
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      if (hookFailuresLeft > 0) {
        hookFailuresLeft -= 1;
        response.writeHead(502).end('relay down');
        return;
      }
      hooks.push(JSON.parse(body));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const hookPort = await listen(hook, () => hook.address() as AddressInfo);

  const config = readAlertsConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: DATABASE,
    ALERTS_EMAIL_TO: 'technicians@example.test',
    ALERTS_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    ALERTS_WEBHOOK_URLS: `http://127.0.0.1:${hookPort}/bot/sendMessage`,
    ALERTS_WEBHOOK_CHAT_ID: '-100123',
    ALERTS_REMINDER_INTERVAL_MINUTES: '60',
    ALERTS_MAX_REMINDERS: '2',
    ALERTS_DELIVERY_RETRY_SECONDS: '1',
  });
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const logger = createLogger('alerts-test', 'warn');
  newEvaluator = () => new AlertsEvaluator(pool, influx, config, logger);
  evaluator = newEvaluator();
  deliverer = new Deliverer(pool, config.notifications, logger);

  clients = await Promise.all([0, 1].map((i) => connectFleetClient(`alerts-test-${process.pid}-${i}`)));
  const planned = planFleet(scenario);
  await registerSimulatedFleet(planned, databaseUrl);
  await addDemoContracts(planned, databaseUrl);
  const result = await runBackfill(planned, {
    seed: 11,
    fromMs: at(FROM),
    toMs: at(TO),
    intervalSeconds: 300,
    clients,
  });
  await waitFor(
    'every reading stored',
    () => countPoints(influx, 'telemetry'),
    (n) => n === result.readings,
    120_000,
    500,
  );
  await rebuildRollups(influx, at(FROM) - 86_400_000, at(TO) + 86_400_000);
  truth = result.model.truth.snapshot().inverters;
}, 300_000);

afterAll(async () => {
  await Promise.all(clients?.map((c) => c.endAsync()) ?? []);
  await ingest?.stop();
  await discardIngestSession(worker);
  deliverer?.close();
  await pool?.end();
  await new Promise((resolve) => smtp?.close(() => resolve(null)));
  hook?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface AlertRow {
  id: string;
  key: string;
  rule: string;
  cause: string;
  state: string;
  installation: string | null;
  affected: number;
  lostKwh: number;
  lostRials: string;
  rank: string | null;
}
async function alerts(where = 'TRUE'): Promise<AlertRow[]> {
  const { rows } = await pool.query<AlertRow>(
    `SELECT * FROM (
       SELECT a.id::text, a.key, a.rule::text, a.cause, a.state::text, i.code AS installation, a.affected_installations AS affected,
              a.lost_kwh_per_day::float8 AS "lostKwh", a.lost_rials_per_day::text AS "lostRials", v.rank::text
         FROM alerts a LEFT JOIN installations i ON i.id = a.installation_id LEFT JOIN active_alerts v ON v.id = a.id
     ) x WHERE ${where} ORDER BY id::bigint`,
  );
  return rows;
}
const ofInstallation = (rows: AlertRow[], serial: string) => rows.filter((r) => r.installation === `SIM-${serial}`);

/** Evaluates as if at `iso`, then delivers (retrying failures) until nothing is due. */
async function evaluateAt(iso: string) {
  const nowMs = at(iso);
  const report = await evaluator.evaluateOnce(nowMs);
  for (let k = 0; k < 10; k++) {
    const { sent, failed } = await deliverer.deliverDue(nowMs + k * 10_000);
    if (sent === 0 && failed === 0) break;
  }
  return report;
}

describe('alerts on a simulated fleet', () => {
  it('a night-time outage opens no offline alert', async () => {
    await evaluateAt('2026-06-20T22:00:00Z');
    expect(ofInstallation(await alerts("rule = 'OFFLINE'"), 'IS-2')).toEqual([]);
    expect(await alerts("rule IN ('OFFLINE', 'AREA_OUTAGE', 'FAULT')")).toEqual([]);
  });

  it('an inverter reporting STANDBY with a flat counter in daylight is OFFLINE, labelled not_producing, until it produces', async () => {
    await evaluateAt('2026-06-21T04:30:00Z');
    const [open] = ofInstallation(await alerts("rule = 'OFFLINE'"), 'IS-6');
    expect(open).toMatchObject({ state: 'OPEN', cause: 'not_producing' });
    expect(await alerts("rule = 'OFFLINE' AND installation <> 'SIM-IS-6'")).toEqual([]);
    await evaluateAt('2026-06-21T05:10:00Z');
    const [closed] = ofInstallation(await alerts("rule = 'OFFLINE'"), 'IS-6');
    expect(closed).toMatchObject({ id: open!.id, state: 'CLEARED', cause: 'not_producing' });
  });

  it('a ground fault opens, and closes itself when the inverter recovers', async () => {
    await evaluateAt('2026-06-21T05:30:00Z');
    const [open] = ofInstallation(await alerts("rule = 'FAULT'"), 'IS-4');
    expect(open).toMatchObject({ state: 'OPEN', cause: 'ground_fault' });
    await evaluateAt('2026-06-21T06:30:00Z');
    const [closed] = ofInstallation(await alerts("rule = 'FAULT'"), 'IS-4');
    expect(closed).toMatchObject({ id: open!.id, state: 'CLEARED' });
    const { rows } = await pool.query(`SELECT kind FROM alert_events WHERE alert_id = $1 ORDER BY id`, [open!.id]);
    expect(rows.map((r) => r.kind)).toEqual(['opened', 'cleared']);
  });

  it('an outage at noon opens an offline alert; 40 installations silent together give one area alert', async () => {
    await evaluateAt('2026-06-21T08:30:00Z');
    const offline = await alerts("rule = 'OFFLINE' AND state = 'OPEN'");
    expect(offline.map((a) => a.installation)).toEqual(['SIM-IS-1']);
    expect(offline[0]).toMatchObject({ state: 'OPEN', cause: 'outage' });
    const area = await alerts("rule = 'AREA_OUTAGE'");
    expect(area).toHaveLength(1);
    expect(area[0]).toMatchObject({ state: 'OPEN', affected: 40, installation: null, rank: '1' });

    // Power back: both close themselves; the counters stayed flat, so they were real outages (grid).
    await evaluateAt('2026-06-21T10:30:00Z');
    expect(ofInstallation(await alerts("rule = 'OFFLINE'"), 'IS-1')[0]).toMatchObject({
      state: 'CLEARED',
      cause: 'outage',
    });
    expect((await alerts("rule = 'AREA_OUTAGE'"))[0]).toMatchObject({ state: 'CLEARED', cause: 'grid' });
  });

  it('heavy soiling on one installation tops the income at risk, in the right order of magnitude', async () => {
    await evaluateAt('2026-06-21T11:30:00Z');
    const active = await alerts("state IN ('OPEN', 'ACKNOWLEDGED')");
    const top = active.find((a) => a.rank === '1')!;
    expect(top).toMatchObject({ rule: 'UNDERPERFORMING', installation: 'SIM-IS-3' });
    // The truth: what the soiled inverter produced less than its healthy peers per day, at the tariff.
    const days = Object.keys(truth['IS-5']!.days).filter((d) => d >= '2026-06-14' && d <= '2026-06-20');
    const peers = ['IS-5', 'IS-6', 'IS-7', 'IS-8'];
    const lostWhPerDay =
      days.reduce((sum, d) => {
        const healthy = peers.map((s) => truth[s]!.days[d]!).sort((a, b) => a - b);
        return sum + (healthy[1]! + healthy[2]!) / 2 - truth['IS-3']!.days[d]!;
      }, 0) / days.length;
    const expectedRials = (lostWhPerDay / 1000) * TARIFF;
    expect(expectedRials).toBeGreaterThan(100_000); // about 15 kWh a day at 30,000 Rial/kWh
    expect(Number(top.lostRials)).toBeGreaterThan(expectedRials / 2);
    expect(Number(top.lostRials)).toBeLessThan(expectedRials * 2);
  });

  it('notifies by e-mail and webhook once per alert and reminder, retrying failed deliveries', async () => {
    const { rows: queued } = await pool.query<{
      alert: string;
      kind: string;
      sequence: number;
      channel: string;
      status: string;
      attempts: number;
    }>(
      `SELECT alert_id::text AS alert, kind, sequence, channel::text AS channel, status::text AS status, attempts
         FROM alert_notifications ORDER BY id`,
    );
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((n) => n.status === 'SENT')).toBe(true);
    const tuple = (alert: string, kind: string, sequence: number) => `${alert}/${kind}/${sequence}`;
    const expected = queued
      .filter((n) => n.channel === 'EMAIL')
      .map((n) => tuple(n.alert, n.kind, n.sequence))
      .sort();
    // Each alert opened, the fault and the outages closed, the soiling alert reminded twice (hourly, at most 2).
    expect(
      expected.filter((t) => t.endsWith('/REMINDER/1') || t.endsWith('/REMINDER/2')).length,
    ).toBeGreaterThanOrEqual(2);
    expect(mails.map((m) => `${m.alert}/${m.notification}`).sort()).toEqual(expected);
    expect(hooks.map((h) => tuple(h.alert.id, h.alert.notification, h.alert.sequence)).sort()).toEqual(expected);
    // The relay was down twice: those deliveries were retried, and the failed attempts are kept.
    const { rows: attempts } = await pool.query<{ failed: string }>(
      `SELECT count(*) FILTER (WHERE NOT ok)::text AS failed FROM alert_delivery_attempts`,
    );
    expect(attempts[0]!.failed).toBe('2');
    expect(queued.filter((n) => n.attempts > 1).length).toBeGreaterThanOrEqual(1);
  });

  it('a used inverter swapped in with a higher counter is not a day of its lifetime total (an underperforming site keeps its alert)', async () => {
    // IS-3 (soiled, its UNDERPERFORMING alert open) replaced at 10:00 Tehran on the 20th by a used
    // inverter whose counter reads 5 MWh more: its readings from then on, rewritten as the new one's.
    const swapAtMs = at('2026-06-20T06:30:00Z');
    const [[series] = []] = await influx.query(
      `SELECT "energy_wh_total", "installation", "province" FROM "raw"."telemetry" WHERE "serial" = 'IS-3' AND time >= ${swapAtMs}ms`,
    );
    const rows = series!.values as [number, number, string, string][];
    expect(rows.length).toBeGreaterThan(100);
    await influx.write(
      rows
        .map(([t, wh, installation, province]) => {
          const tags = `installation=${installation},province=${province},serial=IS-3`;
          return `telemetry,${tags} energy_wh_total=${wh + 5_000_000} ${t}000000`;
        })
        .join('\n'),
      { retentionPolicy: 'raw' },
    );
    await rebuildRollups(influx, swapAtMs - 86_400_000, at(TO) + 86_400_000);
    const [soiling] = ofInstallation(await alerts("rule = 'UNDERPERFORMING'"), 'IS-3');
    expect(soiling).toMatchObject({ state: 'OPEN' });
    await recordReplacement(
      pool,
      { serial: 'IS-3', replacedAt: new Date(swapAtMs), initialWh: null, note: 'used inverter, higher counter' },
      'alerts-test',
    );
    // A new evaluator (the daily history is re-read): the 20th, across the swap, is left out, and the
    // site is still below its peers; read as 5 MWh produced that day, its alert was cleared.
    await newEvaluator().evaluateOnce(at('2026-06-21T12:00:00Z'));
    expect(ofInstallation(await alerts("rule = 'UNDERPERFORMING'"), 'IS-3')).toEqual([
      expect.objectContaining({ id: soiling!.id, state: 'OPEN' }),
    ]);
  });
});
