// The one place where the platform reads its environment. Each component asks for the parts it
// needs; every problem is reported at once, by variable name, before anything starts.
import cron from 'node-cron';
import type { MonthRules } from '../billing/src/core/bill-month';
import { parseMaintenanceFee } from '../billing/src/core/deductions';
import { parseStepDowns } from '../billing/src/core/tariff';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration:\n  - ${problems.join('\n  - ')}\n(setup writes a working environment to .data/<profile>/platform.env)`,
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return '';
  }

  url(name: string, protocols: string[], fallback?: string): string {
    const value = this.string(name, fallback);
    if (!value) return value;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol))
        this.problems.push(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
    return fallback;
  }

  /** A value in a domain format, checked by its parser (which throws RangeError naming the problem). */
  parsed<T>(name: string, fallback: string, parse: (text: string) => T): T {
    const raw = this.env[name]?.trim() || fallback;
    try {
      return parse(raw);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.problems.push(`${name}: ${error.message}`);
      return parse(fallback);
    }
  }

  /** Another reader's part of the configuration; its problems join this one's. */
  include<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(...error.problems);
      return undefined as T; // never returned to callers: done() throws
    }
  }

  logLevel(): string {
    return this.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info');
  }

  done<T>(value: T): T {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return value;
  }
}

export interface MqttConfig {
  url: string;
  username: string;
  password: string;
}
export interface InfluxConfig {
  url: string;
  database: string;
  username?: string;
  password?: string;
  rawRetention: string;
  requestTimeoutMs: number;
}
export interface IngestConfig {
  workerId: string;
  mqtt: MqttConfig;
  influx: InfluxConfig;
  databaseUrl: string;
  shareGroup: string;
  httpPort: number;
  dataDir: string;
  /** Largest MQTT payload accepted; larger ones are recorded as rejected with their size. */
  maxPayloadBytes: number;
  maxReadingsPerMessage: number;
  /** Readings stamped further than this in the future (device clock) are rejected. */
  maxClockAheadMs: number;
  /** Power above rating × this factor (percent) is implausible. */
  powerTolerancePercent: number;
  batchMaxBytes: number;
  flushIntervalMs: number;
  writesInFlight: number;
  journalSegmentBytes: number;
  /** Unwritten journal bytes above which acknowledgements are held (disk guard). */
  journalMaxBacklogBytes: number;
  registryRefreshMs: number;
  logLevel: string;
}

export interface ApiConfig {
  influx: InfluxConfig;
  billing: BillingConfig;
  /** How often the program-progress snapshot is recomputed. */
  progressRefreshSeconds: number;
  /** An inverter silent this long while the sun is up at its site counts as stale. */
  staleAfterMinutes: number;
  port: number;
  host: string;
  databaseUrl: string;
  mqttAdmin: MqttConfig;
  sessionTtlMinutes: number;
  signInMaxFailures: number;
  signInLockMinutes: number;
  /** Requests per minute per client on the sign-in routes. */
  signInRateLimit: number;
  logLevel: string;
}

export function readApiConfig(env: Env = process.env): ApiConfig {
  const r = new EnvReader(env);
  const partial = {
    port: r.integer('API_PORT', 8080, 0, 65535),
    host: r.string('API_HOST', '127.0.0.1'),
    sessionTtlMinutes: r.integer('API_SESSION_TTL_MINUTES', 720, 1, 43_200),
    signInMaxFailures: r.integer('API_SIGN_IN_MAX_FAILURES', 5, 1, 100),
    signInLockMinutes: r.integer('API_SIGN_IN_LOCK_MINUTES', 15, 1, 1440),
    signInRateLimit: r.integer('API_SIGN_IN_RATE_LIMIT', 20, 1, 10_000),
    progressRefreshSeconds: r.integer('API_PROGRESS_REFRESH_SECONDS', 30, 1, 3600),
    staleAfterMinutes: r.integer('API_STALE_AFTER_MINUTES', 30, 1, 1440),
    logLevel: r.logLevel(),
  };
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  const mqttAdmin = r.include(() => readMqttConfig(env, 'ADMIN'));
  const influx = r.include(() => readInfluxConfig(env));
  const billing = r.include(() => readBillingConfig(env));
  return r.done({ ...partial, databaseUrl, mqttAdmin, influx, billing });
}

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
  logLevel: string;
}

export function readBillingConfig(env: Env = process.env): BillingConfig {
  const r = new EnvReader(env);
  const rules: MonthRules = {
    maintenanceFee: r.parsed('BILLING_MAINTENANCE_FEE', '0%', parseMaintenanceFee),
    stepDowns: r.parsed('BILLING_STEP_DOWNS', '8:90,12:80,16:70', parseStepDowns),
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
    lookaroundDays: r.integer('BILLING_LOOKAROUND_DAYS', 62, 1, 400),
    logLevel: r.logLevel(),
  };
  // Billing scans a month of readings per query: it gets a longer timeout than the request paths.
  const influxTimeoutMs = r.integer('BILLING_INFLUX_TIMEOUT_MS', 600_000, 1000, 3_600_000);
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  const influx = r.include(() => readInfluxConfig(env));
  return r.done({ ...partial, databaseUrl, influx: { ...influx, requestTimeoutMs: influxTimeoutMs } });
}

export function readMqttConfig(env: Env, role: 'INGEST' | 'ADMIN' | 'FLEET'): MqttConfig {
  const r = new EnvReader(env);
  const username = r.string(`MQTT_${role}_USERNAME`);
  // Service accounts live where no serial can (lib/mqtt/service-accounts.ts).
  if (username && !username.startsWith('svc:'))
    r.problems.push(`MQTT_${role}_USERNAME must start with 'svc:' (the service namespace), got '${username}'`);
  return r.done({ url: r.url('MQTT_URL', ['mqtt:', 'mqtts:']), username, password: r.string(`MQTT_${role}_PASSWORD`) });
}

export function readInfluxConfig(env: Env): InfluxConfig {
  const r = new EnvReader(env);
  return r.done({
    url: r.url('INFLUX_URL', ['http:', 'https:']),
    database: r.string('INFLUX_DATABASE', 'solar'),
    username: env.INFLUX_USERNAME || undefined,
    password: env.INFLUX_PASSWORD || undefined,
    rawRetention: r.string('INFLUX_RAW_RETENTION', '400d'),
    requestTimeoutMs: r.integer('INFLUX_TIMEOUT_MS', 10_000, 100, 600_000),
  });
}

export function readDatabaseUrl(env: Env): string {
  const r = new EnvReader(env);
  return r.done(r.url('DATABASE_URL', ['postgresql:', 'postgres:']));
}

export function readIngestConfig(env: Env = process.env): IngestConfig {
  const r = new EnvReader(env);
  const workerId = r.string('INGEST_WORKER_ID', '1');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(workerId))
    r.problems.push(`INGEST_WORKER_ID must be 1-32 letters, digits, '-' or '_', got '${workerId}'`);
  const config: Omit<IngestConfig, 'mqtt' | 'influx' | 'databaseUrl'> = {
    workerId,
    shareGroup: r.string('INGEST_SHARE_GROUP', 'ingest'),
    httpPort: r.integer('INGEST_HTTP_PORT', 9464, 0, 65535),
    dataDir: r.string('INGEST_DATA_DIR', '.data/run/ingest'),
    maxPayloadBytes: r.integer('INGEST_MAX_PAYLOAD_BYTES', 1_048_576, 1024, 16_777_216),
    maxReadingsPerMessage: r.integer('INGEST_MAX_READINGS_PER_MESSAGE', 5000, 1, 100_000),
    maxClockAheadMs: r.integer('INGEST_MAX_CLOCK_AHEAD_MS', 5 * 60_000, 0, 86_400_000),
    powerTolerancePercent: r.integer('INGEST_POWER_TOLERANCE_PERCENT', 130, 100, 1000),
    batchMaxBytes: r.integer('INGEST_BATCH_MAX_BYTES', 1_048_576, 4096, 25_000_000),
    flushIntervalMs: r.integer('INGEST_FLUSH_INTERVAL_MS', 250, 1, 60_000),
    writesInFlight: r.integer('INGEST_WRITES_IN_FLIGHT', 2, 1, 16),
    journalSegmentBytes: r.integer('INGEST_JOURNAL_SEGMENT_BYTES', 64 * 1_048_576, 4096, 2 ** 31 - 1),
    journalMaxBacklogBytes: r.integer('INGEST_JOURNAL_MAX_BACKLOG_BYTES', 8 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    registryRefreshMs: r.integer('INGEST_REGISTRY_REFRESH_MS', 300_000, 1000, 86_400_000),
    logLevel: r.logLevel(),
  };
  const mqtt = r.include(() => readMqttConfig(env, 'INGEST'));
  const influx = r.include(() => readInfluxConfig(env));
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  return r.done({ ...config, mqtt, influx, databaseUrl });
}

/** For entry points: the configuration, or a clear message and exit code 2. */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
