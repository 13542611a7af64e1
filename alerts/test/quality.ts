// The alerts' quality against ground truth: the simulator's labelled fault library (every fault
// kind, at known places and times) is backfilled through the real broker, ingest and InfluxDB;
// the real evaluator runs through the period as the scheduler would (every 10 minutes by day,
// hourly at night) against the real PostgreSQL; then every alert is matched with the incidents
// and scored: per rule precision and recall, labels, time to open and to close, soiling's loss
// when found, and how the ranking by income at risk agrees with the true Rials lost (the faulty
// fleet against its fault-free twin). Used by quality.test.ts (thresholds) and bench:alerts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { createLogger } from '../../lib/logger';
import {
  addDemoContracts,
  faultFreeTwin,
  type Incident,
  labelledFleet,
  planFleet,
  registerSimulatedFleet,
  runBackfill,
} from '../../simulators/index';
import {
  connectFleetClient,
  discardIngestSession,
  freshInfluxDatabase,
  freshPgDatabase,
  ingestMetric,
  startIngestProcess,
  waitFor,
} from '../../testing/services';
import { readAlertsConfig } from '../src/config';
import { sinceTehranMidnightMs, tehranDate, tehranHour } from '../../lib/program/tehran-time';
import { AlertsEvaluator } from '../src/evaluator';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** addDemoContracts' tariff: Rials per Wh. */
const RIALS_PER_WH = 30;

export interface QualityOptions {
  /** Tehran midnight of the first day. */
  fromMs: number;
  days: number;
  perProvince: number;
  intervalSeconds: number;
  name: string;
  log: (message: string) => void;
}

export interface RuleQuality {
  alerts: number;
  truePositives: number;
  precision: number;
  incidents: number;
  found: number;
  recall: number;
  labelledRight: number;
  /** Minutes from the fault's start to the alert (median, max); to its close after the fault ended. */
  openMinutes: { median: number; max: number } | null;
  closeMinutes: { median: number; max: number } | null;
}

export interface QualityReport {
  installations: number;
  days: number;
  incidents: number;
  readings: number;
  evaluations: number;
  evaluationMs: { median: number; p95: number };
  rules: Record<string, RuleQuality>;
  /** Per incident kind: found (by the expected rule) of all. */
  kinds: Record<string, { found: number; of: number; labelledRight: number }>;
  /** Alerts raised by incidents that must raise nothing (night outage, short gap). */
  quietIncidentAlerts: number;
  /** Device alerts opened for members of an area outage while it lasted. */
  deviceAlertsInAreas: number;
  /** Soiling's loss (percent of output) when its alert opened, the worst case. */
  soilingFoundAtPercent: number | null;
  /** Alerts whose closing cause was the wrong one among those that closed as soiling or equipment. */
  ranking: { pairs: number; discordant: number; agreement: number };
  /** Publishing, ingest and rollups (backfill) and evaluations, in the fast-forwarded run. */
  seconds: { backfill: number; evaluate: number; total: number };
  /** Alerts no incident expects (false alarms), with the incident they came with, if any. */
  unmatched: { key: string; cause: string; opened: string; incident: string | null }[];
}

interface AlertRow {
  id: string;
  key: string;
  rule: string;
  cause: string;
  serial: string | null;
  installation: string | null;
  members: string[] | null;
  openedMs: number;
  closedMs: number | null;
}

const summarise = (values: number[]) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { median: Math.round(sorted[sorted.length >> 1]!), max: Math.round(sorted[sorted.length - 1]!) };
};
const ratio = (a: number, b: number) => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);

export async function runQuality(options: QualityOptions): Promise<QualityReport> {
  const started = performance.now();
  const { log } = options;
  const fleet = labelledFleet({
    fromMs: options.fromMs,
    days: options.days,
    perProvince: options.perProvince,
    seed: 27,
    intervalSeconds: options.intervalSeconds,
  });
  const planned = planFleet(fleet.scenario);
  // A busy machine's rollup rebuild of three weeks and the first evaluation's history take longer
  // than the default 10 s request timeout.
  const fresh = await freshInfluxDatabase(options.name);
  const influx = new InfluxClient({ ...fresh.config, requestTimeoutMs: 600_000 });
  const databaseUrl = await freshPgDatabase(options.name);
  const worker = `${options.name}${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${options.name}-`));
  const ingest = await startIngestProcess({
    INFLUX_DATABASE: options.name,
    DATABASE_URL: databaseUrl,
    INGEST_SHARE_GROUP: `${options.name}-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  const clients: MqttClient[] = await Promise.all(
    [0, 1].map((i) => connectFleetClient(`${options.name}-${process.pid}-${i}`)),
  );
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    await registerSimulatedFleet(planned, databaseUrl);
    await addDemoContracts(planned, databaseUrl);
    log(`quality: ${planned.length} installations, ${fleet.incidents.length} incidents, ${options.days} days`);
    const config = readAlertsConfig({
      ...process.env,
      DATABASE_URL: databaseUrl,
      INFLUX_DATABASE: options.name,
      LOG_LEVEL: 'warn',
    });
    const evaluator = new AlertsEvaluator(pool, influx, config, createLogger('alerts-quality', 'warn'));
    // The scheduler runs every 5 minutes; here every 15 while the sun may be up (06:00-18:00
    // Tehran) and hourly at night (nothing opens at night), to fit CI.
    const times: number[] = [];
    for (let t = fleet.fromMs + 15 * MINUTE; t <= fleet.toMs; t += 15 * MINUTE) {
      const hour = tehranHour(t);
      if ((hour >= 6 && hour < 18) || t % HOUR === 0) times.push(t);
    }
    const snapshots: { rank: Map<string, number> }[] = [];
    const durations: number[] = [];
    let evaluateMs = 0;
    let rolledUpTo = fleet.fromMs;
    // Fast-forwarded in time order: the fleet publishes up to each instant (a datalogger that is
    // offline keeps its readings until it is back, so a communications gap is a gap then), ingest
    // stores it, the rollups cover the days completed, then the evaluator runs as at that instant.
    const pauses = times.map((t, n) => ({
      atMs: t,
      run: async (published: number) => {
        // Stored: ingest has journaled (or found already stored) every reading published and
        // drained its journal into InfluxDB.
        await waitFor(
          'ingest to store what was published',
          async () =>
            (await ingestMetric(ingest.port, 'ingest_readings_accepted_total')) +
              (await ingestMetric(ingest.port, 'ingest_readings_duplicate_total')) >=
              published && (await ingestMetric(ingest.port, 'ingest_journal_backlog_bytes')) === 0,
          (stored) => stored,
          120_000,
          20,
        );
        if (t - rolledUpTo >= DAY || t === fleet.toMs) {
          await rebuildRollups(influx, rolledUpTo - 2 * DAY, t);
          rolledUpTo = t - (t % HOUR);
        }
        const startedAt = performance.now();
        const report = await evaluator.evaluateOnce(t);
        evaluateMs += performance.now() - startedAt;
        durations.push(report.ms.total);
        // The ranking a technician sees at 10:00, 13:00 and 16:00 Tehran.
        const minuteOfDay = sinceTehranMidnightMs(t) / MINUTE;
        if (minuteOfDay === 600 || minuteOfDay === 780 || minuteOfDay === 960) {
          const { rows } = await pool.query<{ id: string; rials: string }>(
            `SELECT id::text, lost_rials_per_day::text AS rials FROM alerts WHERE state IN ('OPEN', 'ACKNOWLEDGED')`,
          );
          snapshots.push({ rank: new Map(rows.map((r) => [r.id, Number(r.rials)])) });
        }
        if (n % 200 === 0) log(`  ${new Date(t).toISOString()}: ${n}/${times.length} evaluations`);
      },
    }));
    const backfill = await runBackfill(planned, {
      seed: fleet.scenario.seed!,
      fromMs: fleet.fromMs,
      toMs: fleet.toMs,
      intervalSeconds: options.intervalSeconds,
      clients,
      quietAtNight: true,
      pauses,
    });
    const evaluateSeconds = evaluateMs / 1000;
    const backfillSeconds = (performance.now() - started) / 1000 - evaluateSeconds;

    const { rows: alerts } = await pool.query<AlertRow>(
      `SELECT a.id::text, a.key, a.rule::text, a.cause, v.serial, i.code AS installation,
              CASE WHEN a.rule = 'AREA_OUTAGE' THEN ARRAY(SELECT m->>'serial' FROM jsonb_array_elements(a.detail->'members') m) END AS members,
              (extract(epoch FROM a.opened_at) * 1000)::float8 AS "openedMs",
              (extract(epoch FROM a.closed_at) * 1000)::float8 AS "closedMs"
         FROM alerts a LEFT JOIN inverters v ON v.id = a.inverter_id LEFT JOIN installations i ON i.id = a.installation_id
        ORDER BY a.id`,
    );
    const twin = faultFreeTwin(planned, {
      seed: fleet.scenario.seed!,
      fromMs: fleet.fromMs,
      toMs: fleet.toMs,
      intervalSeconds: options.intervalSeconds,
    });
    const truth = backfill.model.truth.snapshot().inverters;
    const report = score(fleet.incidents, alerts, fleet.toMs, twin, truth, snapshots);
    return {
      installations: planned.length,
      days: options.days,
      incidents: fleet.incidents.length,
      readings: backfill.readings,
      evaluations: times.length,
      evaluationMs: {
        median: summarise(durations)!.median,
        p95: [...durations].sort((a, b) => a - b)[Math.floor(durations.length * 0.95)]!,
      },
      ...report,
      seconds: {
        backfill: Math.round(backfillSeconds),
        evaluate: Math.round(evaluateSeconds),
        total: Math.round((performance.now() - started) / 1000),
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
    await ingest.stop();
    await discardIngestSession(worker);
    await pool.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const serialsOf = (a: AlertRow) =>
  a.members ?? (a.serial ? [a.serial] : a.installation ? [a.installation.replace(/^SIM-/, '')] : []);

/** Matches alerts with incidents (same devices, overlapping time) and computes the figures. */
export function score(
  incidents: Incident[],
  alerts: AlertRow[],
  endMs: number,
  twin: Record<string, { days: Record<string, number> }>,
  truth: Record<string, { days: Record<string, number> }>,
  snapshots: { rank: Map<string, number> }[],
): Omit<
  QualityReport,
  'installations' | 'days' | 'incidents' | 'readings' | 'evaluations' | 'evaluationMs' | 'seconds'
> {
  // An alert belongs to an incident on the same devices whose time it overlaps (lasting causes are
  // judged on complete days: a day's grace after the end).
  const overlaps = (a: AlertRow, i: Incident) => {
    const grace = a.rule === 'UNDERPERFORMING' ? 2 * DAY : 2 * HOUR;
    const until = (i.untilMs ?? endMs) + grace;
    return (
      a.openedMs >= i.fromMs - 10 * MINUTE && a.openedMs <= until && serialsOf(a).some((s) => i.serials.includes(s))
    );
  };
  const matchOf = new Map<string, Incident>();
  for (const a of alerts) {
    const candidates = incidents.filter((i) => overlaps(a, i));
    const best = candidates.find((i) => i.expect?.rule === a.rule) ?? candidates[0];
    if (best) matchOf.set(a.id, best);
  }
  const rules: Record<string, RuleQuality> = {};
  const kinds: QualityReport['kinds'] = {};
  for (const rule of ['OFFLINE', 'AREA_OUTAGE', 'FAULT', 'UNDERPERFORMING']) {
    const raised = alerts.filter((a) => a.rule === rule);
    const truePositives = raised.filter((a) => matchOf.get(a.id)?.expect?.rule === rule).length;
    const expected = incidents.filter((i) => i.expect?.rule === rule);
    const opens: number[] = [];
    const closes: number[] = [];
    let found = 0;
    let right = 0;
    for (const i of expected) {
      const mine = raised.filter((a) => matchOf.get(a.id) === i);
      const kind = kinds[i.kind] ?? { found: 0, of: 0, labelledRight: 0 };
      kinds[i.kind] = kind;
      kind.of += 1;
      if (mine.length === 0) continue;
      found += 1;
      kind.found += 1;
      const first = mine[0]!;
      opens.push((first.openedMs - i.fromMs) / MINUTE);
      const last = mine[mine.length - 1]!;
      if (i.untilMs !== null && last.closedMs !== null) closes.push((last.closedMs - i.untilMs) / MINUTE);
      if (last.cause === i.expect!.cause) {
        right += 1;
        kind.labelledRight += 1;
      }
    }
    rules[rule] = {
      alerts: raised.length,
      truePositives,
      precision: ratio(truePositives, raised.length),
      incidents: expected.length,
      found,
      recall: ratio(found, expected.length),
      labelledRight: right,
      openMinutes: summarise(opens),
      closeMinutes: summarise(closes),
    };
  }
  const quietIncidentAlerts = alerts.filter((a) => matchOf.get(a.id)?.expect === null).length;
  const deviceAlertsInAreas = alerts.filter((a) => a.rule !== 'AREA_OUTAGE' && matchOf.get(a.id)?.expect?.area).length;
  const soilingFound = incidents
    .filter((i) => i.expect?.cause === 'soiling')
    .map((i) => {
      const first = alerts.find((a) => a.rule === 'UNDERPERFORMING' && matchOf.get(a.id) === i);
      return first ? ((first.openedMs - i.fromMs) / DAY) * (i.perDay ?? 0) * 100 : Number.POSITIVE_INFINITY;
    });

  // The truth of each alert: Rials per day the devices lost against their fault-free twin over the
  // days the alert was open (a communications gap loses nothing, an outage what the sun would give).
  const trueRials = new Map<string, number>();
  for (const a of alerts) {
    const days = new Set<string>();
    for (let t = a.openedMs; t <= (a.closedMs ?? endMs); t += HOUR) days.add(tehranDate(t));
    days.add(tehranDate(a.closedMs ?? endMs));
    let wh = 0;
    for (const s of serialsOf(a)) for (const d of days) wh += (twin[s]?.days[d] ?? 0) - (truth[s]?.days[d] ?? 0);
    trueRials.set(a.id, (Math.max(0, wh) / days.size) * RIALS_PER_WH);
  }
  // Discordant pairs among the alerts a technician saw ranked together (each pair once, as last seen).
  const pairs = new Map<string, boolean>();
  for (const { rank } of snapshots) {
    const ids = [...rank.keys()];
    for (let x = 0; x < ids.length; x++)
      for (let y = x + 1; y < ids.length; y++) {
        const [a, b] = [ids[x]!, ids[y]!];
        const priced = rank.get(a)! - rank.get(b)!;
        const lost = trueRials.get(a)! - trueRials.get(b)!;
        // Losses within 10 % of each other are a tie: no order to get wrong.
        if (priced === 0 || Math.abs(lost) <= 0.1 * Math.max(trueRials.get(a)!, trueRials.get(b)!)) continue;
        pairs.set(`${a}:${b}`, Math.sign(priced) !== Math.sign(lost));
      }
  }
  const discordant = [...pairs.values()].filter(Boolean).length;
  return {
    rules,
    kinds,
    quietIncidentAlerts,
    deviceAlertsInAreas,
    soilingFoundAtPercent: soilingFound.length ? Math.round(Math.max(...soilingFound) * 100) / 100 : null,
    ranking: { pairs: pairs.size, discordant, agreement: ratio(pairs.size - discordant, pairs.size) },
    unmatched: alerts
      .filter((a) => matchOf.get(a.id)?.expect?.rule !== a.rule)
      .map((a) => ({
        key: a.key,
        cause: a.cause,
        opened: new Date(a.openedMs).toISOString(),
        incident: matchOf.get(a.id)?.id ?? null,
      })),
  };
}
