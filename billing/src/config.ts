// Billing's settings: the money rules, the schedule and the InfluxDB timeout, read from the
// environment with lib's reader and checked before a run starts.
import cron from 'node-cron';
import { type Env, EnvReader, type InfluxConfig, readDatabaseUrl, readInfluxConfig } from '../../lib/config';
import { readTariffSettings } from '../../lib/program/tariff-settings';
import type { MonthRules } from './core/bill-month';
import { parseMaintenanceFee } from './core/deductions';
import { parseDifferencePolicy, parsePercentAsBasisPoints, type SettlementPolicy } from './core/reconcile-settlement';

export interface BillingConfig {
  databaseUrl: string;
  influx: InfluxConfig;
  rules: MonthRules;
  /** Day of the next month on which the scheduler closes a month (Tehran time). */
  closeDay: number;
  /** node-cron expression (Tehran time) for the daily draft of the current month. */
  draftCron: string;
  /** How many closed months are re-read for late data on each run. */
  adjustmentMonths: number;
  /** How far before and after a month to look for the counter readings that bound it. */
  lookaroundDays: number;
  /** How the distribution company's settlements are reconciled, and who carries differences. */
  settlements: SettlementPolicy;
  logLevel: string;
}

export function readBillingConfig(env: Env = process.env): BillingConfig {
  const r = new EnvReader(env);
  const rules: MonthRules = {
    maintenanceFee: r.parsed('BILLING_MAINTENANCE_FEE', '0%', parseMaintenanceFee),
    stepDowns: r.include(() => readTariffSettings(env))?.stepDowns ?? [],
    minimumPayoutRials: BigInt(r.integer('BILLING_MINIMUM_PAYOUT_RIALS', 100_000, 0, 1_000_000_000)),
  };
  const draftCron = r.parsed('BILLING_DRAFT_CRON', '30 2 * * *', (text) => {
    if (!cron.validate(text))
      throw new RangeError(`'${text}' is not a cron expression (minute hour day month weekday)`);
    return text;
  });
  const partial = {
    rules,
    draftCron,
    closeDay: r.integer('BILLING_CLOSE_DAY', 5, 1, 29),
    adjustmentMonths: r.integer('BILLING_ADJUSTMENT_MONTHS', 3, 0, 12),
    lookaroundDays: r.integer('BILLING_LOOKAROUND_DAYS', 400, 1, 400),
    settlements: {
      energyToleranceBasisPoints: r.parsed('SETTLEMENT_ENERGY_TOLERANCE_PERCENT', '5', parsePercentAsBasisPoints),
      amountToleranceBasisPoints: r.parsed('SETTLEMENT_AMOUNT_TOLERANCE_PERCENT', '5', parsePercentAsBasisPoints),
      lateAfterDays: r.integer('SETTLEMENT_LATE_AFTER_DAYS', 45, 1, 365),
      differencePolicy: r.parsed('SETTLEMENT_DIFFERENCE_POLICY', 'absorb', parseDifferencePolicy),
    },
    logLevel: r.logLevel(),
  };
  // Billing scans a month of readings per query: it gets a longer timeout than the request paths.
  const influxTimeoutMs = r.integer('BILLING_INFLUX_TIMEOUT_MS', 600_000, 1000, 3_600_000);
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  const influx = r.include(() => readInfluxConfig(env, 'READER'));
  return r.done({ ...partial, databaseUrl, influx: { ...influx, requestTimeoutMs: influxTimeoutMs } });
}
