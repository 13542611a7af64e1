// How the platform reads its environment: each component reads its own settings with EnvReader
// (ingest/src/config.ts, billing/src/config.ts, api/src/config.ts), and the settings several share
// (broker, InfluxDB, PostgreSQL) are read here. Every problem is reported at once, by variable
// name, before anything starts.
import { redactSecrets } from './logger';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration:\n  - ${problems.join('\n  - ')}\n(setup writes a working environment to .data/<profile>/platform.env)`,
    );
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export class EnvReader {
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

  /** Another reader's part of the configuration; its problems join this one's, each named once (readers share settings). */
  include<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) if (!this.problems.includes(problem)) this.problems.push(problem);
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
  /** Absent only for a deliberately anonymous client (tests of the refusal). */
  username?: string;
  password?: string;
  rawRetention: string;
  requestTimeoutMs: number;
}
export function readMqttConfig(env: Env, role: 'INGEST' | 'ADMIN' | 'FLEET'): MqttConfig {
  const r = new EnvReader(env);
  const username = r.string(`MQTT_${role}_USERNAME`);
  // Service accounts live where no serial can (lib/mqtt/service-accounts.ts).
  if (username && !username.startsWith('svc:'))
    r.problems.push(`MQTT_${role}_USERNAME must start with 'svc:' (the service namespace), got '${username}'`);
  return r.done({ url: r.url('MQTT_URL', ['mqtt:', 'mqtts:']), username, password: r.string(`MQTT_${role}_PASSWORD`) });
}

/**
 * InfluxDB's users, one per kind of access (lib/influx/users.ts; setup creates them):
 *  - WRITER: ingest only; may write the platform's database, cannot read it;
 *  - READER: the API, billing, alerts, dashboards, the simulators' checks, and ingest (a late
 *    reading is judged against the device's stored history); may query, never write;
 *  - ADMIN: setup, rollup rebuilds (SELECT ... INTO) and test fixtures; never a running service.
 */
export type InfluxRole = 'ADMIN' | 'WRITER' | 'READER';

export function readInfluxConfig(env: Env, role: InfluxRole): InfluxConfig {
  const r = new EnvReader(env);
  return r.done({
    url: r.url('INFLUX_URL', ['http:', 'https:']),
    database: r.string('INFLUX_DATABASE', 'solar'),
    username: r.string(`INFLUX_${role}_USERNAME`),
    password: r.string(`INFLUX_${role}_PASSWORD`),
    rawRetention: r.string('INFLUX_RAW_RETENTION', '400d'),
    requestTimeoutMs: r.integer('INFLUX_TIMEOUT_MS', 10_000, 100, 600_000),
  });
}

/** The application's connection (a role that owns no table, see lib/db-roles.ts). */
export function readDatabaseUrl(env: Env): string {
  const r = new EnvReader(env);
  return r.done(r.url('DATABASE_URL', ['postgresql:', 'postgres:']));
}

/** The tables' owner: migrations, setup and tests that rebuild databases, never the running platform. */
export function readDatabaseOwnerUrl(env: Env): string {
  const r = new EnvReader(env);
  return r.done(r.url('DATABASE_OWNER_URL', ['postgresql:', 'postgres:']));
}

/** For entry points: the configuration, or a clear message and exit code 2. */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${redactSecrets(error.message)}\n`);
    process.exit(2);
  }
}
