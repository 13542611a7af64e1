// The SMS sender's settings (SMS.ir's REST API, see smsir.ts), read from the environment and
// checked at start. The API key is a secret: it is read here, sent only in the X-API-KEY header,
// and never logged or stored.
import { type Env, EnvReader } from '../../../lib/config';
import { tehranHour } from '../../../lib/program/tehran-time';

export interface SmsConfig {
  /** Null: no provider configured; messages stay queued (the sender says so and sends nothing). */
  provider: { url: string; apiKey: string; lineNumber: string; timeoutMs: number } | null;
  /** Messages per minute at most: the payday wave the portal's sign-in can take (BENCHMARKS.md). */
  perMinute: number;
  /** Messages per request to the provider. */
  batch: number;
  /** Tehran hours [from, until) in which nothing is sent (null: none); e.g. 22-8. */
  quietHours: { from: number; until: number } | null;
  maxAttempts: number;
  retryBaseSeconds: number;
}

export function parseQuietHours(text: string): SmsConfig['quietHours'] {
  if (text === '' || text === 'none') return null;
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 23 || m[1] === m[2])
    throw new RangeError(
      `'${text}' is not quiet hours written FROM-UNTIL in Tehran hours (0-23), e.g. 22-8, or 'none'`,
    );
  return { from: Number(m[1]), until: Number(m[2]) };
}

export function readSmsConfig(env: Env = process.env): SmsConfig {
  const r = new EnvReader(env);
  const apiKey = env.SMS_API_KEY?.trim() ?? '';
  const provider = apiKey
    ? {
        url: r.url('SMS_API_URL', ['https:', 'http:'], 'https://api.sms.ir/v1').replace(/\/$/, ''),
        apiKey,
        lineNumber: r.parsed('SMS_LINE_NUMBER', '', (t) => {
          if (!/^\d{4,20}$/.test(t))
            throw new RangeError('is required with SMS_API_KEY: the sending line, digits only');
          return t;
        }),
        timeoutMs: r.integer('SMS_TIMEOUT_MS', 10_000, 100, 120_000),
      }
    : null;
  // Each message may bring its reader to the portal's sign-in at once: 100 a minute (1.7 a second)
  // is what one 2-core API host signs in (docs/production.md, BENCHMARKS.md).
  const perMinute = r.integer('SMS_PER_MINUTE', 100, 1, 60_000);
  return r.done({
    provider,
    perMinute,
    batch: Math.min(perMinute, r.integer('SMS_BATCH', 100, 1, 100)),
    quietHours: r.parsed('SMS_QUIET_HOURS', '22-8', parseQuietHours),
    maxAttempts: r.integer('SMS_MAX_ATTEMPTS', 6, 1, 50),
    retryBaseSeconds: r.integer('SMS_RETRY_BASE_SECONDS', 60, 0, 86_400),
  });
}

/** Whether an instant falls in the quiet hours (Tehran time). */
export function isQuiet(quiet: SmsConfig['quietHours'], instantMs: number): boolean {
  if (!quiet) return false;
  const hour = tehranHour(instantMs);
  return quiet.from < quiet.until ? hour >= quiet.from && hour < quiet.until : hour >= quiet.from || hour < quiet.until;
}
