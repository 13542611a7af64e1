// The platform monitor's settings (ops/monitor/README.md).
import { readNotificationConfig } from '../../alerts/index';
import { type Env, EnvReader, readDatabaseUrl, readInfluxConfig } from '../../lib/config';
import type { InfluxConfig } from '../../lib/config';

export interface MonitorConfig {
  port: number;
  databaseUrl: string;
  influx: InfluxConfig;
  mqttUrl: string;
  dataDir: string;
  backupDir: string;
  closeDay: number;
  unpaidAfterDays: number;
  /** TLS certificates (PEM files) whose expiry is watched: the proxy's, the broker's TLS listener's. */
  certificateFiles: string[];
  /** ALERTS_WEBHOOK_URLS: Alertmanager posts to the monitor, which relays (alertmanager-config.ts says why). */
  webhookUrls: string[];
  webhookTimeoutMs: number;
  /** How often Alertmanager sends the Watchdog (recorded as the interval of its job_runs row). */
  watchdogIntervalSeconds: number;
}

export const MONITOR_DEFAULT_PORT = 9465;
/** Where Alertmanager posts the Watchdog, the alerting path's heartbeat (the monitor records it). */
export const WATCHDOG_PATH = '/alertmanager/watchdog';
/** How often Alertmanager sends the Watchdog to the monitor. */
export const readWatchdogIntervalSeconds = (r: EnvReader) =>
  r.integer('ALERTMANAGER_WATCHDOG_INTERVAL_SECONDS', 60, 1, 3600);

export function readMonitorConfig(env: Env): MonitorConfig {
  const r = new EnvReader(env);
  const dataDir = r.string('SOLAR_DATA_DIR');
  return r.done({
    port: r.integer('MONITOR_PORT', MONITOR_DEFAULT_PORT, 1, 65535),
    databaseUrl: r.include(() => readDatabaseUrl(env)),
    influx: r.include(() => readInfluxConfig(env, 'READER')),
    mqttUrl: r.url('MQTT_URL', ['mqtt:', 'mqtts:']),
    dataDir,
    backupDir: r.string('BACKUP_DIR', `${dataDir}/backups`),
    closeDay: r.integer('BILLING_CLOSE_DAY', 5, 1, 29),
    unpaidAfterDays: r.integer('MONITOR_UNPAID_BATCH_DAYS', 7, 1, 365),
    certificateFiles: (env.MONITOR_CERT_FILES ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
    webhookUrls: r.include(() => readNotificationConfig(env))?.webhookUrls ?? [],
    webhookTimeoutMs: r.integer('ALERTS_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
    watchdogIntervalSeconds: readWatchdogIntervalSeconds(r),
  });
}
