// One evaluation of the whole program: read (PostgreSQL registry and tariffs, InfluxDB readings),
// evaluate (pure), write (alerts, timeline, reminders, queued notifications), in one transaction
// under an advisory lock so two evaluators never race.
import type pg from 'pg';
import type { InfluxClient } from '../../lib/influx/client';
import type { Logger } from '../../lib/logger';
import { rollbackWith, withTransaction } from '../../lib/transaction';
import { evaluate } from './core/evaluate';
import type { AlertsConfig } from './config';
import { PricedInstallationsCache, readInputs, readReplacedSince } from './read-inputs';
import { DailyHistory, LatestReadings } from './telemetry-cache';
import { clearAlerts, notifyOf, readActiveAlerts, readGapHistory, remind, upsertFindings, type Notify } from './store';

const LOCK = 'solar-alerts-evaluator';

export interface EvaluationReport {
  skipped?: 'locked';
  installations: number;
  opened: number;
  updated: number;
  cleared: number;
  reminded: number;
  ms: { read: number; evaluate: number; write: number; total: number };
}

export class AlertsEvaluator {
  private readonly latest: LatestReadings;
  private readonly daily: DailyHistory;
  private readonly registry: PricedInstallationsCache;
  readonly notify: Notify;

  constructor(
    private readonly pool: pg.Pool,
    private readonly influx: InfluxClient,
    private readonly config: AlertsConfig,
    private readonly logger: Logger,
  ) {
    this.notify = notifyOf(config.notifications);
    this.latest = new LatestReadings(influx);
    this.daily = new DailyHistory(influx);
    this.registry = new PricedInstallationsCache(config.stepDowns);
  }

  async evaluateOnce(nowMs = Date.now()): Promise<EvaluationReport> {
    const started = performance.now();
    let read = started;
    let evaluated = started;
    const written = await withTransaction(this.pool, async (client) => {
      const {
        rows: [lock],
      } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [LOCK]);
      if (!lock?.ok) return rollbackWith(null);
      const active = await readActiveAlerts(client);
      const gapHistory = await readGapHistory(client, nowMs);
      const installations = await this.registry.get(client, nowMs);
      const replaced = await readReplacedSince(client, nowMs - (this.config.historyDays + 2) * 86_400_000);
      const daily = await this.daily.energy(installations, nowMs, this.config.historyDays, replaced);
      const provinces = [...new Set(installations.map((i) => i.provinceCode))];
      const latest = await this.latest.at(nowMs, this.config.rules.offlineAfterMinutes * 60_000, provinces);
      const inputs = await readInputs(
        client,
        this.influx,
        installations,
        latest,
        daily,
        active,
        gapHistory,
        nowMs,
        this.config.rules,
      );
      read = performance.now();
      const { findings, clearances } = evaluate(inputs);
      evaluated = performance.now();
      const { opened, updated } = await upsertFindings(client, findings, nowMs, this.config.reminders, this.notify);
      const cleared = await clearAlerts(client, clearances, nowMs, this.notify);
      const reminded = await remind(client, nowMs, this.config.reminders, this.notify);
      return { installations: installations.length, opened, updated, cleared, reminded };
    });
    if (written === null)
      return {
        skipped: 'locked',
        installations: 0,
        opened: 0,
        updated: 0,
        cleared: 0,
        reminded: 0,
        ms: { read: 0, evaluate: 0, write: 0, total: 0 },
      };
    const done = performance.now();
    const report = {
      ...written,
      ms: {
        read: Math.round(read - started),
        evaluate: Math.round(evaluated - read),
        write: Math.round(done - evaluated),
        total: Math.round(done - started),
      },
    };
    this.logger.info(report, 'alerts evaluated');
    return report;
  }
}
