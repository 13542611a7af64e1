// The alerts component's settings, from the environment, checked at start with every problem named.
import { EnvReader, readDatabaseUrl, readInfluxConfig, type InfluxConfig } from '../../lib/config';
import type { StepDown } from '../../lib/program/tariff';
import { readTariffSettings } from '../../lib/program/tariff-settings';
import type { ReminderPolicy } from './core/lifecycle';
import type { AlertSeverity, RuleConfig } from './core/types';

export interface NotificationConfig {
  emailTo: string[];
  emailFrom: string;
  smtpUrl: string | null;
  webhookUrls: string[];
  /** Added to webhook bodies as `chat_id`, so a Telegram- or Bale-style bot API accepts them as they are. */
  webhookChatId: string | null;
  minSeverity: AlertSeverity;
  notifyOnClose: boolean;
  maxAttempts: number;
  retryBaseSeconds: number;
  timeoutMs: number;
}

export interface AlertsConfig {
  databaseUrl: string;
  influx: InfluxConfig;
  stepDowns: StepDown[];
  rules: RuleConfig;
  /** Days of daily energy read for peers and the shape of a decline. */
  historyDays: number;
  intervalSeconds: number;
  deliveryIntervalSeconds: number;
  /**
   * Alertmanager's Watchdog not arrived at the monitor for this long: Prometheus or Alertmanager is
   * down and the job tells the receivers itself (watchers.ts). 0: not watched (no Prometheus).
   */
  watchdogStaleSeconds: number;
  reminders: ReminderPolicy;
  notifications: NotificationConfig;
  logLevel: string;
}

type Env = Record<string, string | undefined>;

const decimal = (min: number, max: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new RangeError(`must be a number from ${min} to ${max}, got '${text}'`);
  return value;
};
const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const emails = (text: string) => {
  const values = list(text);
  for (const v of values) if (!/^[^\s@,]+@[^\s@,]+$/.test(v)) throw new RangeError(`'${v}' is not an e-mail address`);
  return values;
};
const urls = (protocols: string[]) => (text: string) => {
  const values = list(text);
  // A problem names the entry by position, never by value: these URLs carry passwords and bot tokens.
  values.forEach((v, k) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new RangeError(`entry ${k + 1} is not a URL`);
    }
    if (!protocols.includes(url.protocol)) throw new RangeError(`entry ${k + 1} must use ${protocols.join(' or ')}`);
  });
  return values;
};

/**
 * Where notifications go and how (the technicians' alerts and, through Alertmanager, the platform's
 * own: ops/monitor/alertmanager-config.ts). Problems name a URL by position, never by value.
 */
export function readNotificationConfig(env: Env = process.env): NotificationConfig {
  const r = new EnvReader(env);
  const config = {
    emailTo: r.parsed('ALERTS_EMAIL_TO', '', emails),
    emailFrom: r.parsed('ALERTS_EMAIL_FROM', 'alerts@solar.invalid', (t) => emails(t)[0]!),
    smtpUrl: r.parsed('ALERTS_SMTP_URL', '', (t) => urls(['smtp:', 'smtps:'])(t)[0] ?? null),
    webhookUrls: r.parsed('ALERTS_WEBHOOK_URLS', '', urls(['http:', 'https:'])),
    webhookChatId: env.ALERTS_WEBHOOK_CHAT_ID?.trim() || null,
    minSeverity: r.oneOf('ALERTS_NOTIFY_MIN_SEVERITY', ['MAJOR', 'MINOR', 'WARNING'] as const, 'WARNING'),
    notifyOnClose: r.oneOf('ALERTS_NOTIFY_ON_CLOSE', ['true', 'false'] as const, 'true') === 'true',
    maxAttempts: r.integer('ALERTS_DELIVERY_MAX_ATTEMPTS', 8, 1, 100),
    retryBaseSeconds: r.integer('ALERTS_DELIVERY_RETRY_SECONDS', 60, 1, 86_400),
    timeoutMs: r.integer('ALERTS_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
  };
  if (config.emailTo.length > 0 && !config.smtpUrl) r.problems.push('ALERTS_EMAIL_TO needs ALERTS_SMTP_URL');
  return r.done(config);
}

export function readAlertsConfig(env: Env = process.env): AlertsConfig {
  const r = new EnvReader(env);
  const rules: RuleConfig = {
    offlineAfterMinutes: r.integer('ALERTS_OFFLINE_AFTER_MINUTES', 30, 5, 1440),
    sunUpElevationDeg: r.parsed('ALERTS_SUN_UP_ELEVATION_DEG', '10', decimal(-5, 60)),
    commsOnlyEnergyPercent: r.integer('ALERTS_COMMS_ONLY_ENERGY_PERCENT', 15, 1, 100),
    areaCellDeg: r.parsed('ALERTS_AREA_CELL_DEG', '0.5', decimal(0.01, 20)),
    areaMinInstallations: r.integer('ALERTS_AREA_MIN_INSTALLATIONS', 10, 2, 1_000_000),
    areaMinPercent: r.integer('ALERTS_AREA_MIN_PERCENT', 50, 1, 100),
    areaKeepPercent: r.integer('ALERTS_AREA_KEEP_PERCENT', 10, 1, 100),
    faultEvents: r.parsed(
      'ALERTS_FAULT_EVENTS',
      'GROUND_FAULT,ARC_FAULT,ISOLATION_FAULT,GRID_FAULT,OVER_TEMPERATURE,DC_OVERVOLTAGE',
      list,
    ),
    underperformingPercent: r.integer('ALERTS_UNDERPERFORMING_PERCENT', 10, 1, 99),
    underperformingClearSkyPercent: r.integer('ALERTS_UNDERPERFORMING_CLEAR_SKY_PERCENT', 90, 1, 200),
    windowDays: r.integer('ALERTS_WINDOW_DAYS', 7, 1, 90),
    minDays: r.integer('ALERTS_MIN_DAYS', 3, 1, 90),
    minPeers: r.integer('ALERTS_MIN_PEERS', 3, 1, 1000),
    peerTiltToleranceDeg: r.integer('ALERTS_PEER_TILT_TOLERANCE_DEG', 10, 1, 90),
    clearSkyPerformanceRatio: r.integer('ALERTS_CLEAR_SKY_PERFORMANCE_RATIO_PERCENT', 80, 10, 100) / 100,
    soilingMinSlopePercentPerDay: r.parsed('ALERTS_SOILING_MIN_SLOPE_PERCENT_PER_DAY', '0.2', decimal(0, 100)),
    soilingDetectPercent: r.parsed('ALERTS_SOILING_DETECT_PERCENT', '4', decimal(1, 50)),
    majorLossPercent: r.integer('ALERTS_MAJOR_LOSS_PERCENT', 30, 1, 100),
  };
  const partial = {
    rules,
    historyDays: r.integer('ALERTS_HISTORY_DAYS', 14, 1, 365),
    intervalSeconds: r.integer('ALERTS_INTERVAL_SECONDS', 300, 10, 86_400),
    deliveryIntervalSeconds: r.integer('ALERTS_DELIVERY_INTERVAL_SECONDS', 30, 1, 3600),
    watchdogStaleSeconds: r.integer('ALERTS_WATCHDOG_STALE_SECONDS', 300, 0, 86_400),
    reminders: {
      intervalMinutes: r.integer('ALERTS_REMINDER_INTERVAL_MINUTES', 1440, 1, 43_200),
      maxReminders: r.integer('ALERTS_MAX_REMINDERS', 3, 0, 100),
    },
    notifications: r.include(() => readNotificationConfig(env)),
    logLevel: r.logLevel(),
  };
  if (rules.minDays > rules.windowDays) r.problems.push('ALERTS_MIN_DAYS must not exceed ALERTS_WINDOW_DAYS');
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  // A first evaluation reads the fleet's daily history: it gets a longer timeout than request paths.
  const influxTimeoutMs = r.integer('ALERTS_INFLUX_TIMEOUT_MS', 120_000, 1000, 3_600_000);
  const influx = r.include(() => readInfluxConfig(env, 'READER'));
  // Income at risk is priced like billing prices it: the program's tariff settings, not billing's own.
  const tariff = r.include(() => readTariffSettings(env));
  return r.done({
    ...partial,
    databaseUrl,
    influx: { ...influx, requestTimeoutMs: influxTimeoutMs },
    stepDowns: tariff?.stepDowns ?? [],
  });
}
