// The platform monitor's settings (ops/monitor/README.md).
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
}

export function readMonitorConfig(env: Env): MonitorConfig {
  const r = new EnvReader(env);
  const dataDir = r.string('SOLAR_DATA_DIR');
  return r.done({
    port: r.integer('MONITOR_PORT', 9465, 1, 65535),
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
  });
}
