// The one place where the platform reads its environment. Each component asks for the parts it
// needs; every problem is reported at once, by variable name, before anything starts.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}\n(setup writes a working environment to .data/<profile>/platform.env)`);
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
      if (!protocols.includes(parsed.protocol)) this.problems.push(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
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

  done<T>(value: T): T {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return value;
  }
}

export interface MqttConfig { url: string; username: string; password: string }
export interface InfluxConfig {
  url: string; database: string; username?: string; password?: string;
  rawRetention: string; requestTimeoutMs: number;
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
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
  const collect = <T>(read: () => T): T | undefined => {
    try { return read(); } catch (error) { if (error instanceof ConfigError) r.problems.push(...error.problems); else throw error; }
  };
  const databaseUrl = collect(() => readDatabaseUrl(env));
  const mqttAdmin = collect(() => readMqttConfig(env, 'ADMIN'));
  const influx = collect(() => readInfluxConfig(env));
  return r.done({ ...partial, databaseUrl: databaseUrl!, mqttAdmin: mqttAdmin!, influx: influx! });
}

export function readMqttConfig(env: Env, role: 'INGEST' | 'ADMIN' | 'FLEET'): MqttConfig {
  const r = new EnvReader(env);
  return r.done({
    url: r.url('MQTT_URL', ['mqtt:', 'mqtts:']),
    username: r.string(`MQTT_${role}_USERNAME`),
    password: r.string(`MQTT_${role}_PASSWORD`),
  });
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
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(workerId)) r.problems.push(`INGEST_WORKER_ID must be 1-32 letters, digits, '-' or '_', got '${workerId}'`);
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
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
  const collect = <T>(read: () => T): T | undefined => {
    try { return read(); } catch (error) { if (error instanceof ConfigError) r.problems.push(...error.problems); else throw error; }
  };
  const mqtt = collect(() => readMqttConfig(env, 'INGEST'));
  const influx = collect(() => readInfluxConfig(env));
  const databaseUrl = collect(() => readDatabaseUrl(env));
  return r.done({ ...config, mqtt: mqtt!, influx: influx!, databaseUrl: databaseUrl! });
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
