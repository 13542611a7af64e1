// The API's settings, read from the environment with lib's reader and checked before it listens.
// The billing routes run billing in-process, so billing's settings are part of them.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  type Env,
  EnvReader,
  type InfluxConfig,
  type MqttConfig,
  readDatabaseUrl,
  readInfluxConfig,
  readMqttConfig,
} from '../../lib/config';
import { type BillingConfig, readBillingConfig } from '../../billing';
import { type AlertsConfig, readAlertsConfig } from '../../alerts';
import { type ReportConfig, readReportConfig } from './report/config';
import type { SessionLifetimes } from './session-lifetime';

export interface ApiConfig {
  influx: InfluxConfig;
  billing: BillingConfig;
  /** Settlement reconciliations raise meter alerts with the alert engine's pricing and notifications. */
  alerts: AlertsConfig;
  report: ReportConfig;
  /** How often the program-progress snapshot is recomputed. */
  progressRefreshSeconds: number;
  /** An inverter silent this long while the sun is up at its site counts as stale. */
  staleAfterMinutes: number;
  port: number;
  /**
   * Asked to stop, how long the process keeps answering (each answer closing its connection) before
   * it stops accepting: longer than the proxy keeps an idle connection (nginx's upstream
   * keepalive_timeout, 2 s as setup writes it), so the proxy has closed every idle one first.
   */
  drainSeconds: number;
  /** Rounds of in-process requests (lifecycle.ts, warmUp) before the port opens. */
  warmUpRounds: number;
  /** Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDRs); nobody else's are. */
  trustedProxies: string[];
  host: string;
  databaseUrl: string;
  mqttAdmin: MqttConfig;
  /** How long sessions last: staff, the API's, and the portal's (docs/decisions/006). */
  sessions: SessionLifetimes;
  signInMaxFailures: number;
  signInLockMinutes: number;
  /** Requests per minute per client on the sign-in routes. */
  signInRateLimit: number;
  /** PIN and password checks (scrypt) run at once; more wait in the sign-in queue. */
  signInConcurrency: number;
  /** The longest a sign-in may expect to wait for its check; beyond it, 503 with Retry-After. */
  signInMaxWaitMs: number;
  /** How long a create's stored reply answers a retry with the same Idempotency-Key. */
  idempotencyTtlHours: number;
  portal: PortalConfig;
  logLevel: string;
}

/** Whom beneficiaries call, as the portal's help page and messages say. */
export interface PortalConfig {
  /** The program's national line. */
  helpPhone: string;
  /** Each province's welfare office line, by province code (provinces.csv); the national line otherwise. */
  officePhones: Record<string, string>;
}

const PHONE = /^[0-9][0-9-]{2,19}$/;
function parsePhone(text: string): string {
  if (!PHONE.test(text)) throw new RangeError(`'${text}' is not a phone number (digits and dashes, e.g. 021-66700000)`);
  return text;
}
/** `tehran=021-66700000,yazd=035-38260000`: province code = phone, comma-separated. */
export function parseOfficePhones(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',').filter((s) => s.trim() !== '')) {
    const [code, phone, extra] = item.split('=').map((s) => s.trim());
    if (!code || !phone || extra !== undefined)
      throw new RangeError(`'${item}' should be province=phone, e.g. tehran=021-66700000`);
    out[code] = parsePhone(phone);
  }
  return out;
}

/** `127.0.0.1,10.0.0.0/8,::1`: addresses or CIDR ranges. */
export function parseTrustedProxies(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    const [address = '', bits, extra] = item.split('/');
    const version = isIP(address);
    const maxBits = version === 6 ? 128 : 32;
    if (!version || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits)))
      throw new RangeError(`'${item}' is not an IP address or CIDR range`);
  }
  return items;
}

/**
 * PIN checks at once by default: every core but one, at most libuv's 4 threads. The core left over
 * serves the pages and PostgreSQL on payday: with both of two cores hashing, a statement page took
 * 68 ms and an admitted sign-in 2,047 ms at p99 (BENCHMARKS.md), while a second check at once added
 * little (2.3 sign-ins/s against about 2 for one core). Per API process: several on one host share
 * its cores (api/README.md).
 */
export const defaultSignInConcurrency = (cores: number) => Math.max(1, Math.min(cores - 1, 4));

export function readApiConfig(env: Env = process.env): ApiConfig {
  const r = new EnvReader(env);
  const partial = {
    port: r.integer('API_PORT', 8080, 0, 65535),
    host: r.string('API_HOST', '127.0.0.1'),
    drainSeconds: r.integer('API_DRAIN_SECONDS', 3, 0, 300),
    warmUpRounds: r.integer('API_WARM_UP_ROUNDS', 20, 0, 10_000),
    trustedProxies: r.parsed('API_TRUSTED_PROXIES', '', parseTrustedProxies),
    sessions: {
      ttlMinutes: r.integer('API_SESSION_TTL_MINUTES', 720, 1, 43_200),
      rememberDays: r.integer('PORTAL_REMEMBER_DAYS', 90, 1, 366),
      rememberMaxDays: r.integer('PORTAL_REMEMBER_MAX_DAYS', 365, 1, 3660),
    },
    signInMaxFailures: r.integer('API_SIGN_IN_MAX_FAILURES', 5, 1, 100),
    signInLockMinutes: r.integer('API_SIGN_IN_LOCK_MINUTES', 15, 1, 1440),
    signInRateLimit: r.integer('API_SIGN_IN_RATE_LIMIT', 20, 1, 10_000),
    signInConcurrency: r.integer('API_SIGN_IN_CONCURRENCY', defaultSignInConcurrency(availableParallelism()), 1, 64),
    signInMaxWaitMs: r.integer('API_SIGN_IN_MAX_WAIT_MS', 1000, 0, 60_000),
    idempotencyTtlHours: r.integer('API_IDEMPOTENCY_TTL_HOURS', 24, 1, 720),
    progressRefreshSeconds: r.integer('API_PROGRESS_REFRESH_SECONDS', 30, 1, 3600),
    staleAfterMinutes: r.integer('API_STALE_AFTER_MINUTES', 30, 1, 1440),
    portal: {
      helpPhone: r.parsed('PORTAL_HELP_PHONE', '1480', parsePhone),
      officePhones: r.parsed('PORTAL_OFFICE_PHONES', '', parseOfficePhones),
    },
    logLevel: r.logLevel(),
  };
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  const mqttAdmin = r.include(() => readMqttConfig(env, 'ADMIN'));
  const influx = r.include(() => readInfluxConfig(env, 'READER'));
  const billing = r.include(() => readBillingConfig(env));
  const alerts = r.include(() => readAlertsConfig(env));
  const report = r.include(() => readReportConfig(env));
  return r.done({ ...partial, databaseUrl, mqttAdmin, influx, billing, alerts, report });
}
