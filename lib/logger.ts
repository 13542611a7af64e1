import pino, { type DestinationStream, type Logger } from 'pino';
import { toAsciiDigits } from './identifiers/digits';
import { checkNationalCode } from './identifiers/validate';

// Personal data and secrets never reach the logs (national codes, Sheba numbers, names, mobiles,
// PINs, passwords, tokens, keys):
// - values under personal or secret-like keys are censored at any depth of a logged object, errors
//   included;
// - secrets are also recognised by shape wherever text appears: a URL's userinfo, token-like path
//   segments (`/bot123:ABC.../`), query values and fragments of URLs, `password=...`, `Bearer ...`;
// - request URLs keep their route shape but lose query values (search terms) and path segments
//   that look like identifiers or names;
// - identifiers inside free text (messages, database errors) are masked by pattern.
const PERSONAL_KEYS = new Set(
  [
    'nationalCode',
    'sheba',
    'iban',
    'pin',
    'newPin',
    'pinHash',
    'password',
    'newPassword',
    'passwordHash',
    'mobile',
    'token',
    'authorization',
    'cookie',
    'fullName',
    'search',
    'q',
  ].map((k) => k.toLowerCase()),
);
/** Key names of secrets, however a component spells them (`MQTT_ADMIN_PASSWORD`, `apiKey`, `clientSecret`). */
const SECRET_KEY = /pass(word|wd|phrase)|secret|token|credential|authorization|cookie|apikey|privatekey|key$|signature/;
const isPersonalKey = (key: string) => {
  const compact = key.replace(/[_-]/g, '').toLowerCase();
  return PERSONAL_KEYS.has(compact) || SECRET_KEY.test(compact);
};
const CENSOR = '[redacted]';
const decode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};
const MAX_DEPTH = 8;
/** Query parameters that never carry personal data; every other value is censored. */
const SAFE_QUERY_KEYS = new Set(['page', 'pageSize', 'fresh', 'dryRun', 'incomplete', 'status', 'province']);

const DIGIT = '[0-9\\u06F0-\\u06F9\\u0660-\\u0669]';
const SHEBA_TEXT = new RegExp(`IR${DIGIT}{24}`, 'gi');
const MOBILE_TEXT = new RegExp(`(?<!${DIGIT})(?:${DIGIT}{2})?${DIGIT}9${DIGIT}{9}(?!${DIGIT})`, 'g');
const TEN_DIGITS_TEXT = new RegExp(`(?<!${DIGIT})${DIGIT}{10}(?!${DIGIT})`, 'g');

const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** A path segment that reads like a credential: a bot token (`123:ABC`), or a long run mixing letters and digits. */
const looksLikeToken = (segment: string) =>
  segment.includes(':') ||
  segment.length >= 32 ||
  (segment.length >= 16 && /\d/.test(segment) && /[a-z]/i.test(segment));

/** A URL with its secrets gone: the password (or a lone user, often a token), token-like path segments, query values, fragment. */
function redactUrlSecrets(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(?:([^/?#@]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!match) return CENSOR;
  const [, scheme, userinfo, host, path, query, fragment] = match;
  const user =
    userinfo === undefined ? '' : userinfo.includes(':') ? `${userinfo.split(':')[0]}:${CENSOR}@` : `${CENSOR}@`;
  const safePath = (path ?? '')
    .split('/')
    .map((segment) => (looksLikeToken(decode(segment)) ? CENSOR : segment))
    .join('/');
  const safeQuery = query
    ? `?${query
        .slice(1)
        .split('&')
        .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=${CENSOR}` : CENSOR))
        .join('&')}`
    : '';
  return `${scheme}${user}${host}${safePath}${safeQuery}${fragment ? `#${CENSOR}` : ''}`;
}

/** Free text with secrets masked by shape: in URLs, after `password=`-like names, after `Bearer`/`Basic`, bot tokens, query values. */
export function redactSecrets(text: string): string {
  return (
    text
      .replace(URL_TEXT, redactUrlSecrets)
      .replace(
        /\b([a-z_]*(?:pass(?:word|wd)?|secret|token|api[_-]?key)[a-z_]*)(\s*[=:]\s*)(["']?)[^\s"',;&]+/gi,
        (_m, name: string, sep: string, quote: string) => `${name}${sep}${quote}${CENSOR}`,
      )
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${CENSOR}`)
      // Outside a whole URL too (a relay echoing the path it was called with): bot tokens, query values.
      .replace(/\bbot\d+:[A-Za-z0-9_-]+/g, `bot${CENSOR}`)
      .replace(/([?&][A-Za-z0-9_.-]+=)(?!\[redacted\])[^\s&#"']+/g, `$1${CENSOR}`)
  );
}

/** Free text with secrets, Sheba numbers, mobiles and (valid) national codes masked. */
export function scrubText(text: string): string {
  return redactSecrets(text)
    .replace(SHEBA_TEXT, '[sheba]')
    .replace(TEN_DIGITS_TEXT, (m) => (checkNationalCode(toAsciiDigits(m)).ok ? '[national-code]' : m))
    .replace(MOBILE_TEXT, (m) => (/^0?9\d{9}$/.test(toAsciiDigits(m).replace(/^98/, '')) ? '[mobile]' : m));
}

/** A path segment that may be a person's identifier or name: long digit runs, a Sheba, non-ASCII text. */
const looksPersonal = (segment: string) =>
  new RegExp(`${DIGIT}{10,}`).test(segment) || /^IR\d/i.test(segment) || /[^\x20-\x7e]|@/.test(segment);

/** A request URL fit for a log: the route shape stays, search terms and identifiers go. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q))
    .split('/')
    .map((segment) => (looksPersonal(decode(segment)) ? CENSOR : segment))
    .join('/');
  if (q < 0) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return SAFE_QUERY_KEYS.has(pair) ? pair : CENSOR;
      const key = pair.slice(0, eq);
      return SAFE_QUERY_KEYS.has(key) && !looksPersonal(decode(pair.slice(eq + 1))) ? pair : `${key}=${CENSOR}`;
    });
  return `${path}?${query.join('&')}`;
}

/** A copy of a logged value with personal keys censored and text scrubbed, at any depth. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return scrub({ ...pino.stdSerializers.err(value) }, depth);
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  // Class instances (requests, replies, clients) are left to their serializers, which scrub.
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = isPersonalKey(key) ? CENSOR : scrub(item, depth + 1);
  return out;
}

/** `destination` is for tests that read what a component logs. */
export function createLogger(
  component: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: component,
      level,
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
      serializers: {
        // Text passed as an error is its message (spread, a string became an object of characters).
        err: (error: unknown) =>
          scrub(
            error instanceof Error || (typeof error === 'object' && error !== null)
              ? error
              : { message: String(error) },
          ),
        // Fastify's request: method and a redacted URL (its own serializer would log the query).
        req: (request: { method?: string; url?: string; socket?: { remoteAddress?: string } }) => ({
          method: request.method,
          url: redactUrl(request.url ?? ''),
          remoteAddress: request.socket?.remoteAddress,
        }),
      },
    },
    destination,
  );
}

export type { Logger };
